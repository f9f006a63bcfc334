package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lyceum-oer/lyceum/node/accounts"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds the commands about the node's accounts: `lyceum user
// …`, `lyceum registration` and `lyceum invite`. They act as the node's
// operator: through the daemon's API with the node's token, or on the
// repo directly when no daemon runs.

// usage is a usage error of cmd.
func usage(cmd *cobra.Command, format string, args ...any) error {
	return usageError{cmd: strings.TrimPrefix(cmd.CommandPath(), "lyceum "), err: fmt.Errorf(format, args...)}
}

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Accounts of the node: people who log in to the web app, their roles and API tokens",
		Long: `Accounts are the people of a node. Each owns its person (the actor of the
same username), logs in to the web app and may have personal API tokens
(lyc_…) for scripts. Roles: admin (everything), moderator (invite, review
registrations, moderate) and member (publish).

These commands act as the node's operator: with the daemon's API token, or
on the repo directly when no daemon runs. 'lyceum user add --admin' makes
the first admin without the setup link the daemon prints.`,
	}
	cmd.AddCommand(a.userAddCommand(), a.userListCommand(), a.userRoleCommand(),
		a.userStatusCommand("disable", "Disable an account: its sessions end, its tokens stop working", accountsBackend.Disable),
		a.userStatusCommand("enable", "Enable a disabled account again", accountsBackend.Enable),
		a.userStatusCommand("approve", "Approve a registration waiting for approval", accountsBackend.Approve),
		a.userRejectCommand(), a.userPasswdCommand(), a.tokenCommand())
	return cmd
}

func (a *app) userAddCommand() *cobra.Command {
	var admin, fromStdin bool
	var role, displayName, language string
	cmd := &cobra.Command{
		Use:   "add USERNAME",
		Short: "Make an account (and its person), of any role, without registration",
		Long: `Make an active account and its person. The password is asked twice on the
terminal, without echo, or read from the first line of standard input with
--password-stdin. --admin makes an administrator: on a fresh node, the first
admin (as the setup link does).`,
		Args: exactArgs(1, "one username (lower-case letters, digits, '.', '_', '-')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if admin {
				if role != "" && role != string(api.RoleAdmin) {
					return usage(cmd, "--admin and --role %s disagree", role)
				}
				role = string(api.RoleAdmin)
			}
			pw, err := a.newPassword(cmd, args[0], fromStdin)
			if err != nil {
				return err
			}
			req := api.CreateAccountRequest{Username: args[0], DisplayName: displayName, Password: pw, Language: language, Role: api.Role(role)}
			return a.withBackend(cmd.Context(), func(b backend) error {
				acct, err := b.CreateAccount(cmd.Context(), req)
				if err != nil {
					return err
				}
				return a.printAccount(acct, "created")
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&admin, "admin", false, "make an administrator (same as --role admin)")
	fl.StringVar(&role, "role", "", "admin, moderator or member (default member)")
	fl.StringVar(&displayName, "display-name", "", "the name people see (default: the username)")
	fl.StringVar(&language, "language", "", "interface language: en or fr (default en)")
	fl.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) printAccount(acct api.Account, done string) error {
	if a.jsonOut {
		return a.printJSON(acct)
	}
	fmt.Fprintf(a.stdout, "%s: %s account %s (%s)", done, acct.Role, acct.Username, acct.Status)
	if acct.Actor != "" {
		fmt.Fprintf(a.stdout, ", person %s", acct.Actor)
	}
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) userListCommand() *cobra.Command {
	var status, role string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts, by username",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				all, err := allAccounts(cmd, b, api.AccountFilter{Status: api.AccountStatus(status), Role: api.Role(role)})
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(all)
				}
				if len(all) == 0 {
					fmt.Fprintln(a.stderr, "no accounts match: `lyceum user add NAME` makes one")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tROLE\tSTATUS\tCREATED\tDISPLAY NAME")
				for _, x := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Username, x.Role, x.Status, x.Created.Local().Format(time.DateOnly), x.DisplayName)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only active, pending or disabled accounts")
	cmd.Flags().StringVar(&role, "role", "", "only admin, moderator or member accounts")
	a.addJSONFlag(cmd)
	return cmd
}

// allAccounts reads every page of accounts that f selects.
func allAccounts(cmd *cobra.Command, b backend, f api.AccountFilter) ([]api.Account, error) {
	f.Limit = accounts.MaxListed
	all := []api.Account{}
	for {
		page, err := b.Accounts(cmd.Context(), f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.After = page[len(page)-1].Username
	}
}

func (a *app) userRoleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role USERNAME ROLE",
		Short: "Give an account a role: admin, moderator or member",
		Args:  exactArgs(2, "a username and a role (admin, moderator or member)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				acct, err := b.SetRole(cmd.Context(), args[0], api.Role(args[1]))
				if err != nil {
					return err
				}
				return a.printAccount(acct, "changed")
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

// userStatusCommand is a command that changes one account's status.
func (a *app) userStatusCommand(name, short string, change func(accountsBackend, context.Context, string) (api.Account, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   name + " USERNAME",
		Short: short,
		Args:  exactArgs(1, "one username"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				acct, err := change(b, cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.printAccount(acct, name+"d")
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) userRejectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reject USERNAME",
		Short: "Reject a registration waiting for approval (it is deleted)",
		Args:  exactArgs(1, "one username"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.Reject(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "rejected: %s\n", args[0])
				return nil
			})
		},
	}
}

func (a *app) userPasswdCommand() *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "passwd USERNAME",
		Short: "Set an account's password without the current one (its sessions end)",
		Long: `Set a new password for an account whose person forgot theirs. Every session
of the account ends; its API tokens keep working (revoke them with 'lyceum
user token revoke' if the account was taken over). The password is asked
twice on the terminal, or read from standard input with --password-stdin.`,
		Args: exactArgs(1, "one username"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := a.newPassword(cmd, args[0], fromStdin)
			if err != nil {
				return err
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				acct, err := b.ResetPassword(cmd.Context(), args[0], pw)
				if err != nil {
					return err
				}
				return a.printAccount(acct, "password set")
			})
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	a.addJSONFlag(cmd)
	return cmd
}

// newPassword gets a new password for username: the first line of
// standard input with --password-stdin, or asked twice on the terminal
// without echo. It is checked against the policy before anything else.
func (a *app) newPassword(cmd *cobra.Command, username string, fromStdin bool) (string, error) {
	var pw string
	var err error
	if fromStdin {
		pw, err = readLine(a.stdin, accounts.MaxPasswordBytes)
	} else {
		pw, err = a.askPassword(cmd, username)
	}
	if err != nil {
		return "", err
	}
	return pw, accounts.CheckPassword(pw, username)
}

// askPassword asks for a password twice on the terminal, without echo.
func (a *app) askPassword(cmd *cobra.Command, username string) (string, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usage(cmd, "no terminal to ask for the password: give it on standard input with --password-stdin")
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(a.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if len(b) > accounts.MaxPasswordBytes {
			return "", api.Invalidf("the password is too long: at most %d bytes", accounts.MaxPasswordBytes)
		}
		return string(b), nil
	}
	pw, err := ask("New password for " + username + ": ")
	if err != nil {
		return "", err
	}
	again, err := ask("The same again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", api.Invalidf("the two passwords differ")
	}
	return pw, nil
}

// readLine reads the first line of r, without its line ending, of at
// most max bytes.
func readLine(r io.Reader, max int) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, int64(max)+2), 64).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	if errors.Is(err, io.EOF) && len(line) > max {
		return "", api.Invalidf("the password is too long: at most %d bytes", max)
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) > max {
		return "", api.Invalidf("the password is too long: at most %d bytes", max)
	}
	if len(line) == 0 {
		return "", api.Invalidf("no password on standard input")
	}
	return string(line), nil
}

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Personal API tokens of an account (lyc_…), for scripts",
		Long: `A personal API token lets a script call the node's API as an account
(Authorization: Bearer lyc_…): it may do what the account's role allows, and
publishes as the account's person only. Its secret is shown once, when it is
made; the node keeps only a hash of it.`,
	}
	var scope string
	create := &cobra.Command{
		Use:   "create USERNAME NAME",
		Short: "Make a token of an account; prints its secret, once",
		Long: `Make a token of an account and print its secret, once. With --scope
pinning, the token (lyp_…) works for the IPFS Pinning Service API only
(/api/pinning/v1: Kubo's 'ipfs pin remote', 'lyceum pin remote'), never for
the rest of the API: give that one to an IPFS node or a pinning script.`,
		Example: `  lyceum user token create ada "backup script"
  lyceum user token create ada "school Kubo" --scope pinning`,
		Args: exactArgs(2, "a username and a name for the token (what it is for)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if scope != "" && scope != string(api.ScopePinning) {
				return usage(cmd, "--scope %q: want pinning (or no --scope for the whole API)", scope)
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				t, err := b.CreateToken(cmd.Context(), args[0], api.CreateTokenRequest{Name: args[1], Scope: api.TokenScope(scope)})
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(t)
				}
				fmt.Fprintf(a.stderr, "token %d %q of %s: keep its secret now, it is not shown again\n", t.ID, t.Name, args[0])
				fmt.Fprintln(a.stdout, t.Secret)
				return nil
			})
		},
	}
	a.addJSONFlag(create)
	create.Flags().StringVar(&scope, "scope", "", "pinning: a token of the Pinning Service API only")
	cmd.AddCommand(create, a.tokenListCommand(), a.tokenRevokeCommand())
	return cmd
}

func (a *app) tokenListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list USERNAME",
		Short: "List an account's tokens (never their secrets)",
		Args:  exactArgs(1, "one username"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				ts, err := b.Tokens(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(orEmpty(ts))
				}
				if len(ts) == 0 {
					fmt.Fprintln(a.stderr, "no tokens")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSTARTS\tCREATED\tLAST USED")
				for _, t := range ts {
					used := "never"
					if !t.LastUsed.IsZero() {
						used = t.LastUsed.Local().Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Hint, t.Created.Local().Format(time.DateOnly), used)
				}
				return tw.Flush()
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke USERNAME ID",
		Short: "Revoke a token: it stops working at once",
		Args:  exactArgs(2, "a username and a token ID (see 'lyceum user token list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id < 1 {
				return usage(cmd, "token ID %q: want a number from 'lyceum user token list'", args[1])
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.RevokeToken(cmd.Context(), args[0], id); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "revoked token %d of %s\n", id, args[0])
				return nil
			})
		},
	}
}

func (a *app) registrationCommand() *cobra.Command {
	modes := []string{string(api.RegistrationOpen), string(api.RegistrationApproval), string(api.RegistrationInvitation), string(api.RegistrationClosed)}
	cmd := &cobra.Command{
		Use:   "registration [open|approval|invitation|closed]",
		Short: "Show or set how people get an account on this node",
		Long: `Without an argument, show how people get an account; with one, set it:

  open        anyone registers in the web app, and is active at once
  approval    anyone registers; an admin or moderator approves each account
  invitation  only with an invitation code ('lyceum invite'); the default
  closed      nobody registers; accounts are made with 'lyceum user add'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usage(cmd, "want at most one mode: %s", strings.Join(modes, ", "))
			}
			return nil
		},
		ValidArgs: modes,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				if len(args) == 1 {
					if err := b.SetRegistrationMode(cmd.Context(), api.RegistrationMode(args[0])); err != nil {
						return err
					}
				}
				m, err := b.RegistrationMode(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]api.RegistrationMode{"mode": m})
				}
				fmt.Fprintf(a.stdout, "registration: %s\n", m)
				return nil
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) inviteCommand() *cobra.Command {
	var req api.InvitationRequest
	var role string
	cmd := &cobra.Command{
		Use:   "invite",
		Short: "Make a single-use invitation code; prints it, once",
		Long: `Make an invitation code: whoever registers with it in the web app gets an
active account of its role at once, in any registration mode but closed.
It works once, for --days days. 'lyceum invite list' shows the invitations,
'lyceum invite revoke ID' takes one back.`,
		Args: exactArgs(0, "no arguments (see --role, --days, --note)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Role = api.Role(role)
			return a.withBackend(cmd.Context(), func(b backend) error {
				inv, err := b.CreateInvitation(cmd.Context(), req)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(inv)
				}
				fmt.Fprintf(a.stderr, "invitation %d for a %s, valid until %s: give the code to the person; it is not shown again\n",
					inv.ID, inv.Role, inv.Expires.Local().Format(time.DateTime))
				fmt.Fprintln(a.stdout, inv.Code)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&role, "role", "", "the role of the account it makes: admin, moderator or member (default member)")
	fl.IntVar(&req.Days, "days", accounts.DefaultInvitationDays, fmt.Sprintf("valid for this many days, 1 to %d", accounts.MaxInvitationDays))
	fl.StringVar(&req.Note, "note", "", "for whom, to remember")
	a.addJSONFlag(cmd)
	cmd.AddCommand(a.inviteListCommand(), a.inviteRevokeCommand())
	return cmd
}

func (a *app) inviteListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the invitations, newest first (never their codes)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				is, err := b.Invitations(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(orEmpty(is))
				}
				if len(is) == 0 {
					fmt.Fprintln(a.stderr, "no invitations: `lyceum invite` makes one")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tROLE\tEXPIRES\tUSED BY\tNOTE")
				for _, i := range is {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i.ID, i.Role, i.Expires.Local().Format(time.DateTime), i.UsedBy, i.Note)
				}
				return tw.Flush()
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) inviteRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an unused invitation",
		Args:  exactArgs(1, "an invitation ID (see 'lyceum invite list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return usage(cmd, "invitation ID %q: want a number from 'lyceum invite list'", args[0])
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.RevokeInvitation(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "revoked invitation %d\n", id)
				return nil
			})
		},
	}
}

// orEmpty makes a nil list the empty one: JSON output is [], never null.
func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
