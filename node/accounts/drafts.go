package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Limits of drafts: they are private, but they are stored, so an account
// cannot fill the node with them.
const (
	// MaxDrafts is how many drafts an account keeps.
	MaxDrafts = 100
	// MaxDraftBytes bounds one draft's fields, as JSON.
	MaxDraftBytes = 64 << 10
	maxDraftField = 64 // distinct field names
)

// SaveDraft saves the fields of a publication username has not finished:
// a new draft when id is 0, else over its draft id (KindNotFound when it
// has none of that id). title is what lists show. A draft is the
// account's alone: no other account, admins included, lists or opens it.
func (s *Service) SaveDraft(ctx context.Context, username string, id int64, title string, fields map[string][]string) (api.Draft, error) {
	data, err := draftJSON(title, fields)
	if err != nil {
		return api.Draft{}, err
	}
	d := api.Draft{ID: id, Title: title, Saved: fromMS(s.nowMS()), Fields: fields}
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		var acc int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE username = ?`, username).Scan(&acc); err != nil {
			return notFoundAs(err, api.NotFoundf("no account %s", api.Quote(username)), "read an account")
		}
		if id == 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM drafts WHERE account = ?`, acc).Scan(&n); err != nil {
				return fmt.Errorf("count drafts: %w", err)
			}
			if n >= MaxDrafts {
				return api.Errorf(api.KindConflict, "you have %d drafts, the most an account keeps: publish or delete some first", n)
			}
			res, err := tx.Exec(ctx, `INSERT INTO drafts (account, title, fields, saved) VALUES (?, ?, ?, ?)`, acc, title, data, s.nowMS())
			if err != nil {
				return fmt.Errorf("save a draft: %w", err)
			}
			d.ID, err = res.LastInsertId()
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE drafts SET title = ?, fields = ?, saved = ? WHERE id = ? AND account = ?`, title, data, s.nowMS(), id, acc)
		if err != nil {
			return fmt.Errorf("save a draft: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return orErr(err, api.NotFoundf("you have no draft %d", id))
		}
		return nil
	})
	if err != nil {
		return api.Draft{}, wrapInternal("save a draft", err)
	}
	return d, nil
}

// draftJSON checks a draft's fields against the limits and encodes them.
func draftJSON(title string, fields map[string][]string) ([]byte, error) {
	if len(fields) > maxDraftField {
		return nil, api.Invalidf("a draft has at most %d fields", maxDraftField)
	}
	if !utf8.ValidString(title) || len(title) > 1000 {
		return nil, api.Invalidf("a draft's title is at most 1,000 bytes of UTF-8")
	}
	for k, vs := range fields {
		if !utf8.ValidString(k) {
			return nil, api.Invalidf("a draft's field names are UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, api.Invalidf("a draft's field %s is not UTF-8", api.Quote(k))
			}
		}
	}
	data, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encode a draft: %w", err)
	}
	if len(data) > MaxDraftBytes {
		return nil, api.Invalidf("a draft is at most %d KiB", MaxDraftBytes>>10)
	}
	return data, nil
}

// Drafts lists username's drafts, the last saved first.
func (s *Service) Drafts(ctx context.Context, username string) ([]api.Draft, error) {
	rows, err := s.db.ReadQuery(ctx, `SELECT d.id, d.title, d.fields, d.saved FROM drafts d JOIN accounts a ON a.id = d.account
		WHERE a.username = ? ORDER BY d.saved DESC, d.id DESC`, username)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	return sqlitedb.Scan(rows, scanDraft)
}

// Draft returns username's draft id; KindNotFound when username has no
// such draft (another account's is not found either).
func (s *Service) Draft(ctx context.Context, username string, id int64) (api.Draft, error) {
	rows, err := s.db.ReadQuery(ctx, `SELECT d.id, d.title, d.fields, d.saved FROM drafts d JOIN accounts a ON a.id = d.account
		WHERE a.username = ? AND d.id = ?`, username, id)
	if err != nil {
		return api.Draft{}, fmt.Errorf("read a draft: %w", err)
	}
	ds, err := sqlitedb.Scan(rows, scanDraft)
	if err != nil {
		return api.Draft{}, err
	}
	if len(ds) == 0 {
		return api.Draft{}, api.NotFoundf("you have no draft %d", id)
	}
	return ds[0], nil
}

// DeleteDraft deletes username's draft id (published, or given up).
func (s *Service) DeleteDraft(ctx context.Context, username string, id int64) error {
	res, err := s.db.Exec(ctx, `DELETE FROM drafts WHERE id = ? AND account = (SELECT id FROM accounts WHERE username = ?)`, id, username)
	if err != nil {
		return fmt.Errorf("delete a draft: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return orErr(wrapInternal("delete a draft", err), api.NotFoundf("you have no draft %d", id))
	}
	return nil
}

func scanDraft(rows *sql.Rows) (api.Draft, error) {
	var d api.Draft
	var data string
	var saved int64
	if err := rows.Scan(&d.ID, &d.Title, &data, &saved); err != nil {
		return d, err
	}
	d.Saved = fromMS(saved)
	if err := json.Unmarshal([]byte(data), &d.Fields); err != nil {
		return d, fmt.Errorf("draft %d: %w", d.ID, err)
	}
	return d, nil
}
