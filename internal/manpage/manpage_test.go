package manpage

import (
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

func TestEsc(t *testing.T) {
	for in, want := range map[string]string{
		`--tls-verify`:  `\-\-tls\-verify`,
		`C:\dir`:        `C:\edir`,
		`.hidden start`: `\&.hidden start`,
		`'quoted`:       `\&'quoted`,
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWrite: every visible command gets a section with its flags, a
// hidden one none, and a line of prose starting with a dot cannot become
// a roff request.
func TestWrite(t *testing.T) {
	var cli struct {
		Get struct {
			Force bool   `short:"f" help:"Overwrite."`
			Out   string `help:"Write here."`
		} `cmd:"" help:"Fetch things."`
		Secret struct{} `cmd:"" hidden:""`
	}
	k, err := kong.New(&cli, kong.Name("prog"), kong.Description("Do things."))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, k.Model, Page{Version: "v1", Sections: []Section{{Title: "Files", Text: ".prog.conf is read first"}}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`.TH "PROG" "1" "" "prog v1"`, `.SS "prog get"`, `\fB\-f\fR, \fB\-\-force\fR`,
		`\fB\-\-out\fR=\fISTRING\fR`, `.SH "FILES"`, "\n\\&.prog.conf is read first\n"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "secret") {
		t.Errorf("page shows the hidden command:\n%s", page)
	}
}
