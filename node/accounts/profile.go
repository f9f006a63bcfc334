package accounts

import (
	"context"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// UpdateProfile changes the display name or interface language of the
// account username; empty fields keep their value. (The display name of
// its Person actor, in its log, is the social room's to change.)
func (s *Service) UpdateProfile(ctx context.Context, username string, req api.ProfileRequest) (api.Account, error) {
	name, err := checkText("display name", req.DisplayName, MaxDisplayName)
	if err != nil {
		return api.Account{}, err
	}
	lang := req.Language
	if lang != "" {
		if lang, err = checkLanguage(lang); err != nil {
			return api.Account{}, err
		}
	}
	var a account
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		var err error
		if a, err = txByName(ctx, tx, username); err != nil {
			return err
		}
		if name != "" {
			a.DisplayName = name
		}
		if lang != "" {
			a.Language = lang
		}
		_, err = tx.Exec(ctx, `UPDATE accounts SET display_name = ?, language = ? WHERE id = ?`, a.DisplayName, a.Language, a.id)
		return err
	})
	if err != nil {
		return api.Account{}, wrapInternal("update the profile of "+username, err)
	}
	return a.Account, nil
}

// ChangePassword changes the password of the account username, given its
// current one: every session of the account ends, and the answer is a new
// session for the browser that asked. Attempts count against the
// account's login limit.
func (s *Service) ChangePassword(ctx context.Context, username string, req api.PasswordChange) (api.Session, error) {
	if !s.loginAccount.Allow(limitKey(username)) {
		return api.Session{}, errLoginLimited
	}
	if err := CheckPassword(req.New, username); err != nil {
		return api.Session{}, err
	}
	if req.New == req.Current {
		return api.Session{}, api.Invalidf("the new password is the same as the current one")
	}
	a, err := s.byName(ctx, username)
	if err != nil {
		return api.Session{}, err
	}
	if a.Status != api.StatusActive {
		return api.Session{}, errNotLoggedIn
	}
	if len(req.Current) > MaxPasswordBytes {
		return api.Session{}, errWrongPassword
	}
	ok, _, err := s.verify(ctx, req.Current, a.password)
	if err != nil {
		return api.Session{}, wrapInternal("check the password of "+username, err)
	}
	if !ok {
		return api.Session{}, errWrongPassword
	}
	hash, err := s.hash(ctx, req.New)
	if err != nil {
		return api.Session{}, err
	}
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		// Only if no other change won meanwhile.
		res, err := tx.Exec(ctx, `UPDATE accounts SET password = ? WHERE id = ? AND password = ?`, hash, a.id, a.password)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return orErr(err, api.Errorf(api.KindConflict, "the password changed meanwhile; try again"))
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE account = ?`, a.id)
		return err
	})
	if err != nil {
		return api.Session{}, wrapInternal("change the password of "+username, err)
	}
	a.password = hash
	return s.newSession(ctx, a)
}
