package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/internal/textrule"
)

const userUsage = `classmeet user: manage staff accounts

  classmeet user add --email E --name N --role teacher|admin [--time-zone Z]
  classmeet user list
  classmeet user disable --email E
  classmeet user enable --email E
  classmeet user password --email E

add and password read the new password from the first line of standard input:
  echo 'a long password' | classmeet user add --email ann@school.example --name 'Ann Smith' --role teacher`

func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprintln(stdout, userUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "teacher", "teacher or admin")
	zone := fs.String("time-zone", defaultZone(getenv), "IANA time zone")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w\n\n%s", errUsage, err, userUsage)
	}
	st, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "add":
		return addUser(ctx, st, stdin, stdout, store.NewUser{Email: *email, Name: *name, Role: store.Role(*role), TimeZone: *zone})
	case "list":
		return listUsers(ctx, st, stdout)
	case "disable", "enable":
		return setDisabled(ctx, st, stdout, *email, args[0] == "disable")
	case "password":
		return resetPassword(ctx, st, stdin, stdout, *email)
	}
	return fmt.Errorf("%w: unknown user command %q\n\n%s", errUsage, args[0], userUsage)
}

func defaultZone(getenv func(string) string) string {
	if z := getenv("CLASSMEET_DEFAULT_TIME_ZONE"); z != "" {
		return z
	}
	return "UTC"
}

func addUser(ctx context.Context, st *store.Store, stdin io.Reader, stdout io.Writer, nu store.NewUser) error {
	var problems []string
	if err := schedule.CheckEmail(nu.Email); err != nil {
		problems = append(problems, "--email "+err.Error())
	}
	name, err := textrule.Name(nu.Name)
	if err != nil {
		problems = append(problems, "--name "+err.Error())
	}
	nu.Name = name
	if _, err := store.ParseRole(string(nu.Role)); err != nil {
		problems = append(problems, "--"+err.Error())
	}
	if _, err := schedule.LoadZone(nu.TimeZone); err != nil {
		problems = append(problems, "--time-zone: "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", errUsage, strings.Join(problems, "; "))
	}
	hash, err := readPassword(ctx, stdin)
	if err != nil {
		return err
	}
	nu.PasswordHash = hash
	u, err := st.CreateUser(ctx, nu)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s %s <%s>\n", u.Role, u.Name, u.Email)
	return nil
}

// readPassword reads one line from stdin, checks it and hashes it.
func readPassword(ctx context.Context, stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := auth.CheckPasswordRules(pw); err != nil {
		return "", fmt.Errorf("the password on standard input %w", err)
	}
	return auth.NewPasswords(1).Hash(ctx, pw)
}

func listUsers(ctx context.Context, st *store.Store, stdout io.Writer) error {
	us, err := st.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS")
	for _, u := range us {
		status := "active"
		if u.DisabledAt != nil {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status)
	}
	return tw.Flush()
}

func setDisabled(ctx context.Context, st *store.Store, stdout io.Writer, email string, disabled bool) error {
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("no account has email %q: %w", email, err)
	}
	if err := st.SetUserDisabled(ctx, u.ID, disabled); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: disabled=%v\n", u.Email, disabled)
	return nil
}

func resetPassword(ctx context.Context, st *store.Store, stdin io.Reader, stdout io.Writer, email string) error {
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("no account has email %q: %w", email, err)
	}
	hash, err := readPassword(ctx, stdin)
	if err != nil {
		return err
	}
	// Keep no session: every session of the account ends.
	if err := st.SetPassword(ctx, u.ID, hash, [16]byte{}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: password changed; all sessions signed out\n", u.Email)
	return nil
}
