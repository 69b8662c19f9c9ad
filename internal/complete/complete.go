// Package complete completes a command line of a kong application from
// the application's own model: commands, flags, enum values, and, for
// arguments and flag values tagged complete:"KIND" (or typed as paths),
// what a Predictor offers. The scripts it writes for bash, zsh and fish
// all call the program back with the words typed so far (a hidden
// command), so every shell completes from one definition, and a command
// added to the grammar completes without another line here.
package complete

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// Candidate is one completion: the word, and a help text shells may show.
// A word ending in "/", ":" or "=" (a directory, a transport prefix, a
// flag waiting for its value) gets no space after it.
type Candidate struct {
	Value string
	Help  string
}

// Predictor offers the values of a kind of word for the words typed so
// far (prefix): KIND of a complete:"KIND" tag, or "file" for a value of
// type path, existingfile or existingdir. It may return words that do
// not start with prefix; Complete drops them.
type Predictor func(kind, prefix string) []Candidate

// Complete returns the candidates for the last of words, the arguments
// typed after the program's name (the last one is the word being
// completed, "" at a fresh word).
func Complete(app *kong.Application, words []string, predict Predictor) []Candidate {
	if len(words) == 0 {
		words = []string{""}
	}
	st := walk(app.Node, words[:len(words)-1])
	cur := words[len(words)-1]
	var out []Candidate
	switch {
	case st.value != nil:
		out = values(st.value, cur, predict)
	case strings.HasPrefix(cur, "--") && strings.Contains(cur, "="):
		name, val, _ := strings.Cut(cur[2:], "=")
		if f := findFlag(st.node, name); f != nil {
			for _, c := range values(f.Value, val, predict) {
				out = append(out, Candidate{Value: "--" + name + "=" + c.Value, Help: c.Help})
			}
		}
	case strings.HasPrefix(cur, "-"):
		out = flags(st.node)
	default:
		out = args(st, cur, predict)
	}
	return filter(out, cur)
}

// state is where the words typed before the current one lead: a command,
// how many of its positional arguments are given, and the flag whose
// value comes next, if any.
type state struct {
	node  *kong.Node
	pos   int
	value *kong.Value
}

func walk(root *kong.Node, words []string) state {
	st := state{node: root}
	for _, w := range words {
		switch {
		case st.value != nil:
			st.value = nil
		case strings.HasPrefix(w, "--"):
			name, _, hasValue := strings.Cut(w[2:], "=")
			if f := findFlag(st.node, name); f != nil && !hasValue && takesValue(f) {
				st.value = f.Value
			}
		case strings.HasPrefix(w, "-") && len(w) == 2:
			if f := findShort(st.node, rune(w[1])); f != nil && takesValue(f) {
				st.value = f.Value
			}
		case strings.HasPrefix(w, "-") && len(w) > 2:
			// -abc or -oFILE: nothing waits for a value.
		default:
			if child := findChild(st.node, w); child != nil && st.pos == 0 {
				st.node = child
				continue
			}
			st.pos++
		}
	}
	return st
}

func takesValue(f *kong.Flag) bool { return !f.IsBool() && !f.IsCounter() }

// args are the subcommands of a command, or the values of its next
// positional argument.
func args(st state, cur string, predict Predictor) []Candidate {
	var out []Candidate
	if st.pos == 0 {
		for _, c := range st.node.Children {
			if !c.Hidden {
				out = append(out, Candidate{Value: c.Name, Help: c.Help})
			}
		}
	}
	if n := len(st.node.Positional); n > 0 {
		p := st.node.Positional[min(st.pos, n-1)]
		if st.pos < n || p.IsSlice() {
			out = append(out, values(p, cur, predict)...)
		}
	}
	return out
}

// values are an enum's members, or what predict offers for a tagged or
// path-typed value.
func values(v *kong.Value, cur string, predict Predictor) []Candidate {
	if v.Enum != "" {
		var out []Candidate
		for _, e := range v.EnumSlice() {
			if e != "" {
				out = append(out, Candidate{Value: e})
			}
		}
		return out
	}
	kind := ""
	if v.Tag != nil {
		kind = v.Tag.Get("complete")
		if kind == "" && (v.Tag.Type == "path" || v.Tag.Type == "existingfile" || v.Tag.Type == "existingdir") {
			kind = "file"
		}
	}
	if kind == "" || predict == nil {
		return nil
	}
	return predict(kind, cur)
}

// flags are every visible flag of a command and of the commands above it.
func flags(n *kong.Node) []Candidate {
	var out []Candidate
	for _, group := range n.AllFlags(true) {
		for _, f := range group {
			out = append(out, Candidate{Value: "--" + f.Name, Help: f.Help})
			if f.Tag != nil && f.Tag.Negatable != "" {
				out = append(out, Candidate{Value: "--no-" + f.Name, Help: f.Help})
			}
		}
	}
	return out
}

func findFlag(n *kong.Node, name string) *kong.Flag {
	for _, group := range n.AllFlags(false) {
		for _, f := range group {
			if f.Name == name || (f.Negated && "no-"+f.Name == name) {
				return f
			}
		}
	}
	return nil
}

func findShort(n *kong.Node, short rune) *kong.Flag {
	for _, group := range n.AllFlags(false) {
		for _, f := range group {
			if f.Short == short {
				return f
			}
		}
	}
	return nil
}

func findChild(n *kong.Node, name string) *kong.Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// filter keeps the candidates that start with prefix, each once.
func filter(cands []Candidate, prefix string) []Candidate {
	var out []Candidate
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c.Value, prefix) && !seen[c.Value] {
			seen[c.Value] = true
			out = append(out, c)
		}
	}
	return out
}

// Write prints candidates for the scripts: one a line, the word, then a
// tab and its help when it has one (its first line).
func Write(w io.Writer, cands []Candidate) error {
	for _, c := range cands {
		help, _, _ := strings.Cut(c.Help, "\n")
		line := c.Value
		if help != "" {
			line += "\t" + help
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
