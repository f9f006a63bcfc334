package main

import (
	"context"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node/api"
)

// accountsBackend is what the account commands need. Over the daemon's
// API the node's token makes the calls as the operator; on the repo
// opened here, localNode makes them as api.Operator.
type accountsBackend interface {
	Account(ctx context.Context, username string) (api.Account, error)
	Accounts(ctx context.Context, f api.AccountFilter) ([]api.Account, error)
	CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error)
	Approve(ctx context.Context, username string) (api.Account, error)
	Reject(ctx context.Context, username string) error
	SetRole(ctx context.Context, username string, role api.Role) (api.Account, error)
	Disable(ctx context.Context, username string) (api.Account, error)
	Enable(ctx context.Context, username string) (api.Account, error)
	ResetPassword(ctx context.Context, username, password string) (api.Account, error)
	CreateToken(ctx context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error)
	Tokens(ctx context.Context, username string) ([]api.Token, error)
	RevokeToken(ctx context.Context, username string, id int64) error
	RegistrationMode(ctx context.Context) (api.RegistrationMode, error)
	SetRegistrationMode(ctx context.Context, m api.RegistrationMode) error
	CreateInvitation(ctx context.Context, req api.InvitationRequest) (api.NewInvitation, error)
	Invitations(ctx context.Context) ([]api.Invitation, error)
	RevokeInvitation(ctx context.Context, id int64) error
}

var (
	_ accountsBackend = (*gateway.Client)(nil)
	_ accountsBackend = localNode{}
)

const operator = api.Operator

func (l localNode) Account(ctx context.Context, username string) (api.Account, error) {
	return l.n.Accounts().Account(ctx, username)
}

func (l localNode) Accounts(ctx context.Context, f api.AccountFilter) ([]api.Account, error) {
	return l.n.Accounts().Accounts(ctx, operator, f)
}

func (l localNode) CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error) {
	return l.n.Accounts().CreateAccount(ctx, req)
}

func (l localNode) Approve(ctx context.Context, username string) (api.Account, error) {
	return l.n.Accounts().Approve(ctx, operator, username)
}

func (l localNode) Reject(ctx context.Context, username string) error {
	return l.n.Accounts().Reject(ctx, operator, username)
}

func (l localNode) SetRole(ctx context.Context, username string, role api.Role) (api.Account, error) {
	return l.n.Accounts().SetRole(ctx, operator, username, role)
}

func (l localNode) Disable(ctx context.Context, username string) (api.Account, error) {
	return l.n.Accounts().Disable(ctx, operator, username)
}

func (l localNode) Enable(ctx context.Context, username string) (api.Account, error) {
	return l.n.Accounts().Enable(ctx, operator, username)
}

func (l localNode) ResetPassword(ctx context.Context, username, password string) (api.Account, error) {
	if err := l.n.Accounts().ResetPassword(ctx, operator, username, password); err != nil {
		return api.Account{}, err
	}
	return l.n.Accounts().Account(ctx, username)
}

func (l localNode) CreateToken(ctx context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error) {
	return l.n.Accounts().CreateToken(ctx, username, req)
}

func (l localNode) Tokens(ctx context.Context, username string) ([]api.Token, error) {
	if _, err := l.n.Accounts().Account(ctx, username); err != nil {
		return nil, err
	}
	return l.n.Accounts().Tokens(ctx, username)
}

func (l localNode) RevokeToken(ctx context.Context, username string, id int64) error {
	return l.n.Accounts().RevokeToken(ctx, username, id)
}

func (l localNode) RegistrationMode(ctx context.Context) (api.RegistrationMode, error) {
	return l.n.Accounts().RegistrationMode(ctx)
}

func (l localNode) SetRegistrationMode(ctx context.Context, m api.RegistrationMode) error {
	return l.n.Accounts().SetRegistrationMode(ctx, operator, m)
}

func (l localNode) CreateInvitation(ctx context.Context, req api.InvitationRequest) (api.NewInvitation, error) {
	return l.n.Accounts().CreateInvitation(ctx, operator, req)
}

func (l localNode) Invitations(ctx context.Context) ([]api.Invitation, error) {
	return l.n.Accounts().Invitations(ctx, operator)
}

func (l localNode) RevokeInvitation(ctx context.Context, id int64) error {
	return l.n.Accounts().RevokeInvitation(ctx, operator, id)
}
