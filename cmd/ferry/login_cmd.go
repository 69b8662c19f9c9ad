package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
)

// LoginCmd is `ferry login REGISTRY`.
type LoginCmd struct {
	Registry      string `arg:"" complete:"registry" help:"The registry: HOST[:PORT], or docker.io for Docker Hub."`
	Username      string `short:"u" help:"User name (asked for on a terminal when not given)."`
	Password      string `short:"p" help:"Password. Insecure: other users see a command line (ps, shell history); use --password-stdin."`
	PasswordStdin bool   `help:"Read the password from standard input."`
}

// maxPassword caps what --password-stdin reads.
const maxPassword = 64 << 10

func (c *LoginCmd) Run(g *Globals) error {
	if c.Password != "" && c.PasswordStdin {
		return usage(errors.New("login: --password and --password-stdin are exclusive"))
	}
	if c.Password != "" {
		g.warnf("WARNING! A password on the command line is insecure: other users see it (ps, shell history). Use --password-stdin.\n")
	}
	user, password, err := c.credentials(g)
	if err != nil {
		return err
	}
	opts, err := g.registryOptions(nil)
	if err != nil {
		return err
	}
	if err := registry.CheckLogin(g.ctx, c.Registry, user, password, opts); err != nil {
		return fmt.Errorf("login %s: nothing saved: %w", c.Registry, err)
	}
	creds, err := registry.CredentialsFile()
	if err != nil {
		return err
	}
	where, err := creds.Save(c.Registry, user, password)
	if err != nil {
		return fmt.Errorf("login %s: %w", c.Registry, err)
	}
	g.printf("Login Succeeded: %s as %s, saved in %s\n", c.Registry, user, where)
	return nil
}

// credentials are the user and password from the flags, standard input
// or, on a terminal, a prompt (the password without echo).
func (c *LoginCmd) credentials(g *Globals) (user, password string, err error) {
	user, password = c.Username, c.Password
	in := bufio.NewReader(g.stdin)
	if c.PasswordStdin {
		b, err := io.ReadAll(io.LimitReader(in, maxPassword+1))
		if err != nil {
			return "", "", fmt.Errorf("login: standard input: %w", err)
		}
		if len(b) > maxPassword {
			return "", "", fmt.Errorf("login: a password of more than %d bytes on standard input: %w", maxPassword, spec.ErrBadInput)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	tty, isTTY := g.stdin.(*os.File)
	isTTY = isTTY && term.IsTerminal(int(tty.Fd()))
	if user == "" && isTTY && !c.PasswordStdin {
		fmt.Fprint(g.stderr, "Username: ")
		line, err := in.ReadString('\n')
		if err != nil && err != io.EOF {
			return "", "", fmt.Errorf("login: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	if password == "" && isTTY && !c.PasswordStdin {
		fmt.Fprint(g.stderr, "Password: ")
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", "", fmt.Errorf("login: %w", err)
		}
		password = string(b)
	}
	switch {
	case user == "":
		return "", "", usage(fmt.Errorf("login %s: give the user with -u USER", c.Registry))
	case password == "":
		return "", "", usage(fmt.Errorf("login %s: give the password on standard input with --password-stdin", c.Registry))
	}
	return user, password, nil
}

// LogoutCmd is `ferry logout REGISTRY`.
type LogoutCmd struct {
	Registry string `arg:"" complete:"registry" help:"The registry: HOST[:PORT], or docker.io for Docker Hub."`
}

func (c *LogoutCmd) Run(g *Globals) error {
	creds, err := registry.CredentialsFile()
	if err != nil {
		return err
	}
	where, found, err := creds.Remove(c.Registry)
	if err != nil {
		return fmt.Errorf("logout %s: %w", c.Registry, err)
	}
	if !found {
		g.printf("Not logged in to %s (%s)\n", c.Registry, where)
		return nil
	}
	g.printf("Removed login for %s from %s\n", c.Registry, where)
	return nil
}
