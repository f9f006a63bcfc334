package social

import (
	"database/sql"
	"fmt"
	"strings"
)

// addedColumns are the columns later versions added to the views, with
// their definitions, for ALTER TABLE on the tables of older repos.
var addedColumns = []struct{ table, column, def string }{
	{"actors", "icon_cid", "TEXT NOT NULL DEFAULT ''"},
	{"actors", "icon_type", "TEXT NOT NULL DEFAULT ''"},
	{"actors", "profile_seq", "INTEGER NOT NULL DEFAULT 0"},
	{"resources", "latest", "INTEGER NOT NULL DEFAULT 0"},
	{"resources", "updated", "TEXT NOT NULL DEFAULT ''"},
	{"versions", "community", "TEXT NOT NULL DEFAULT ''"},
}

// migrateViews adds the columns older repos lack and fills those that
// can be derived from the other views (a resource's latest version, the
// derivations), in one transaction. What only the log holds (the icons of
// profiles, the comments) appears with the next rebuild of the views
// (`lyceum repair --rebuild-views`) or the next activity that sets it.
func migrateViews(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	added := map[string]bool{}
	for _, c := range addedColumns {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("columns of %s: %w", c.table, err)
		}
		if n > 0 {
			continue
		}
		if _, err := tx.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.column + ` ` + c.def); err != nil {
			return fmt.Errorf("add %s.%s: %w", c.table, c.column, err)
		}
		added[c.table+"."+c.column] = true
	}
	if added["resources.latest"] {
		if err := fillLatest(tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// fillLatest derives, in a repo made before they existed, each resource's
// latest version, each version's community and the derivations table from
// the versions and the resources.
func fillLatest(tx *sql.Tx) error {
	if _, err := tx.Exec(`UPDATE resources SET
		latest = coalesce((SELECT max(v.version) FROM versions v WHERE v.resource_id = resources.id AND v.actor = resources.actor), 0),
		updated = coalesce((SELECT v.published FROM versions v WHERE v.resource_id = resources.id AND v.actor = resources.actor
			ORDER BY v.version DESC LIMIT 1), '')`); err != nil {
		return fmt.Errorf("fill the latest versions: %w", err)
	}
	if _, err := tx.Exec(`UPDATE versions SET community = coalesce((SELECT r.community FROM resources r WHERE r.id = versions.resource_id), '')`); err != nil {
		return fmt.Errorf("fill the versions' communities: %w", err)
	}
	rows, err := tx.Query(`SELECT resource_id, version, derived_from FROM versions WHERE derived_from != ''`)
	if err != nil {
		return fmt.Errorf("read the derivations: %w", err)
	}
	type derivation struct {
		source, id string
		version    uint64
	}
	var ds []derivation
	for rows.Next() {
		var id, from string
		var version uint64
		if err := rows.Scan(&id, &version, &from); err != nil {
			rows.Close()
			return fmt.Errorf("read the derivations: %w", err)
		}
		for _, src := range strings.Fields(from) {
			ds = append(ds, derivation{src, id, version})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the derivations: %w", err)
	}
	for _, d := range ds {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO derivations (source, resource_id, version) VALUES (?, ?, ?)`, d.source, d.id, d.version); err != nil {
			return fmt.Errorf("fill the derivations: %w", err)
		}
	}
	return nil
}
