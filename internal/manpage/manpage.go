// Package manpage writes a kong application's manual page, in roff, from
// the same model that parses its command line: the synopsis, the global
// flags, every visible command with its arguments and flags, and sections
// of prose the program adds (topics).
package manpage

import (
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// Section is a section of prose after the commands.
type Section struct {
	Title string // as man pages title them: ENVIRONMENT, EXIT STATUS…
	Text  string // paragraphs separated by blank lines; lines starting with two spaces are kept as they are
}

// Page says what the model does not: the page's version and sections.
type Page struct {
	Version  string
	Sections []Section
}

// Write writes the page of app, section 1, to w.
func Write(w io.Writer, app *kong.Application, p Page) error {
	m := &man{}
	name := app.Name
	m.macro("TH", strings.ToUpper(name), "1", "", name+" "+p.Version, "User Commands")
	m.macro("SH", "NAME")
	m.line(esc(name) + ` \- ` + esc(firstSentence(app.Help)))
	m.macro("SH", "SYNOPSIS")
	m.line(`\fB` + esc(name) + `\fR [\fIflags\fR] \fIcommand\fR [\fIargs\fR]`)
	m.macro("SH", "DESCRIPTION")
	m.text(app.Help)
	m.macro("SH", "GLOBAL FLAGS")
	m.flags(app.Flags)
	m.macro("SH", "COMMANDS")
	for _, n := range commands(app.Node) {
		m.command(n)
	}
	for _, s := range p.Sections {
		m.macro("SH", strings.ToUpper(s.Title))
		m.text(s.Text)
	}
	_, err := io.WriteString(w, m.String())
	return err
}

// commands lists the visible leaf commands depth first, in grammar order.
func commands(n *kong.Node) []*kong.Node {
	var out []*kong.Node
	for _, c := range n.Children {
		if c.Hidden || c.Type != kong.CommandNode {
			continue
		}
		if len(c.Children) == 0 {
			out = append(out, c)
		}
		out = append(out, commands(c)...)
	}
	return out
}

type man struct{ strings.Builder }

func (m *man) line(s string) { m.WriteString(s + "\n") }

func (m *man) macro(name string, args ...string) {
	s := "." + name
	for _, a := range args {
		s += ` "` + strings.ReplaceAll(esc(a), `"`, `\(dq`) + `"`
	}
	m.line(s)
}

// text writes paragraphs; lines indented by two spaces are kept as
// they are, in a no-fill block.
func (m *man) text(s string) {
	for i, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			m.macro("PP")
		}
		if strings.HasPrefix(para, "  ") {
			m.macro("nf")
			for _, l := range strings.Split(para, "\n") {
				m.line(esc(l))
			}
			m.macro("fi")
			continue
		}
		m.line(esc(strings.Join(strings.Fields(para), " ")))
	}
}

func (m *man) command(n *kong.Node) {
	m.macro("SS", n.FullPath())
	var args []string
	for _, a := range n.Positional {
		args = append(args, a.Summary())
	}
	m.line(`\fB` + esc(n.FullPath()) + `\fR ` + esc(strings.Join(args, " ")))
	m.macro("PP")
	m.text(n.Help)
	if n.Detail != "" {
		m.macro("PP")
		m.text(n.Detail)
	}
	for _, a := range n.Positional {
		m.macro("TP")
		m.line(`\fI` + esc(a.Summary()) + `\fR`)
		m.text(a.Help)
	}
	m.flags(n.Flags)
}

func (m *man) flags(flags []*kong.Flag) {
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		m.macro("TP")
		s := `\fB\-\-` + esc(f.Name) + `\fR`
		if f.Short != 0 {
			s = `\fB\-` + esc(string(f.Short)) + `\fR, ` + s
		}
		if !f.IsBool() && !f.IsCounter() {
			s += `=\fI` + esc(f.FormatPlaceHolder()) + `\fR`
		}
		m.line(s)
		help := f.Help
		if len(f.Envs) > 0 {
			help += " (environment: " + strings.Join(f.Envs, ", ") + ")"
		}
		m.text(help)
	}
}

// esc escapes text for roff: backslashes, hyphens that must print as
// such, and a leading dot or quote that roff would read as a request.
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}
