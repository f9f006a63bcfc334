package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The client's calls about accounts. With the node's API token they act
// as api.Operator; with a personal token, as its account.

// Me is the account of the client's personal token (KindInvalid with the
// node's token, which is no account's).
func (c *Client) Me(ctx context.Context) (api.Account, error) {
	var out api.Account
	return out, c.call(ctx, http.MethodGet, "/api/v1/me", nil, &out)
}

// Account finds an account by username.
func (c *Client) Account(ctx context.Context, username string) (api.Account, error) {
	var out api.Account
	return out, c.call(ctx, http.MethodGet, accountPath(username), nil, &out)
}

// Accounts lists accounts by username, filtered and paged.
func (c *Client) Accounts(ctx context.Context, f api.AccountFilter) ([]api.Account, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": string(f.Status), "role": string(f.Role), "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out []api.Account
	return out, c.call(ctx, http.MethodGet, "/api/v1/accounts?"+q.Encode(), nil, &out)
}

// CreateAccount makes an active account of any role.
func (c *Client) CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error) {
	var out api.Account
	return out, c.call(ctx, http.MethodPost, "/api/v1/accounts", req, &out)
}

// Approve makes a registration waiting for approval active.
func (c *Client) Approve(ctx context.Context, username string) (api.Account, error) {
	return c.accountAction(ctx, username, "approve")
}

// Reject deletes a registration waiting for approval.
func (c *Client) Reject(ctx context.Context, username string) error {
	return c.call(ctx, http.MethodPost, accountPath(username)+"/reject", nil, &Rejected{})
}

// Disable stops an account.
func (c *Client) Disable(ctx context.Context, username string) (api.Account, error) {
	return c.accountAction(ctx, username, "disable")
}

// Enable makes a disabled account active again.
func (c *Client) Enable(ctx context.Context, username string) (api.Account, error) {
	return c.accountAction(ctx, username, "enable")
}

func (c *Client) accountAction(ctx context.Context, username, action string) (api.Account, error) {
	var out api.Account
	return out, c.call(ctx, http.MethodPost, accountPath(username)+"/"+action, nil, &out)
}

// SetRole gives an account a role.
func (c *Client) SetRole(ctx context.Context, username string, role api.Role) (api.Account, error) {
	var out api.Account
	return out, c.call(ctx, http.MethodPut, accountPath(username)+"/role", RoleRequest{Role: role}, &out)
}

// ResetPassword sets an account's password without its current one.
func (c *Client) ResetPassword(ctx context.Context, username, password string) (api.Account, error) {
	var out api.Account
	return out, c.call(ctx, http.MethodPut, accountPath(username)+"/password", PasswordReset{Password: password}, &out)
}

// CreateToken makes a personal API token of an account; "" is the
// client's own account.
func (c *Client) CreateToken(ctx context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error) {
	var out api.NewToken
	return out, c.call(ctx, http.MethodPost, tokensPath(username), req, &out)
}

// Tokens lists an account's tokens; "" is the client's own account.
func (c *Client) Tokens(ctx context.Context, username string) ([]api.Token, error) {
	var out []api.Token
	return out, c.call(ctx, http.MethodGet, tokensPath(username), nil, &out)
}

// RevokeToken revokes a token of an account; "" is the client's own.
func (c *Client) RevokeToken(ctx context.Context, username string, id int64) error {
	return c.call(ctx, http.MethodDelete, tokensPath(username)+"/"+strconv.FormatInt(id, 10), nil, &Revoked{})
}

// RegistrationMode is how people get an account on the node.
func (c *Client) RegistrationMode(ctx context.Context) (api.RegistrationMode, error) {
	var out RegistrationSetting
	return out.Mode, c.call(ctx, http.MethodGet, "/api/v1/registration", nil, &out)
}

// SetRegistrationMode sets it.
func (c *Client) SetRegistrationMode(ctx context.Context, m api.RegistrationMode) error {
	return c.call(ctx, http.MethodPut, "/api/v1/registration", RegistrationSetting{Mode: m}, &RegistrationSetting{})
}

// CreateInvitation makes an invitation code.
func (c *Client) CreateInvitation(ctx context.Context, req api.InvitationRequest) (api.NewInvitation, error) {
	var out api.NewInvitation
	return out, c.call(ctx, http.MethodPost, "/api/v1/invitations", req, &out)
}

// Invitations lists the invitations.
func (c *Client) Invitations(ctx context.Context) ([]api.Invitation, error) {
	var out []api.Invitation
	return out, c.call(ctx, http.MethodGet, "/api/v1/invitations", nil, &out)
}

// RevokeInvitation deletes an unused invitation.
func (c *Client) RevokeInvitation(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/invitations/"+strconv.FormatInt(id, 10), nil, &Revoked{})
}

func accountPath(username string) string { return "/api/v1/accounts/" + url.PathEscape(username) }

func tokensPath(username string) string {
	if username == "" {
		return "/api/v1/me/tokens"
	}
	return accountPath(username) + "/tokens"
}
