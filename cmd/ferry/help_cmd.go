package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/ferryhq/ferry/internal/manpage"
)

// HelpCmd is `ferry help [COMMAND...|TOPIC]`.
type HelpCmd struct {
	Words []string `arg:"" optional:"" name:"command-or-topic" complete:"help" help:"A command (ferry help site add) or a topic: ${topics}."`
	Man   bool     `help:"Print the whole manual, ferry(1), in roff: man -l <(ferry help --man)."`
}

func (c *HelpCmd) Run(g *Globals, kctx *kong.Context) error {
	if c.Man {
		return manpage.Write(g.stdout, kctx.Model, manpage.Page{Version: buildVersion().Version, Sections: topicSections()})
	}
	if len(c.Words) == 1 {
		if t, ok := topicByName(c.Words[0]); ok {
			g.printf("%s\n\n%s\n", strings.ToUpper(t.Title), strings.TrimSpace(t.Text))
			return nil
		}
	}
	hctx, err := kong.Trace(kctx.Kong, c.Words)
	if err == nil && hctx.Error != nil {
		err = hctx.Error
	}
	if err != nil {
		return usage(fmt.Errorf("help %s: no such command or topic (topics: %s)", strings.Join(c.Words, " "), topicNames()))
	}
	if err := hctx.PrintUsage(false); err != nil {
		return err
	}
	if len(c.Words) == 0 {
		g.printf("\nTopics (ferry help TOPIC): %s. The whole manual: ferry help --man.\n", topicNames())
	}
	return nil
}

// topicNames lists the topics for messages and help texts.
func topicNames() string {
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func topicByName(name string) (topic, bool) {
	i := slices.IndexFunc(topics, func(t topic) bool { return t.Name == name })
	if i < 0 {
		return topic{}, false
	}
	return topics[i], true
}

func topicSections() []manpage.Section {
	out := make([]manpage.Section, 0, len(topics))
	for _, t := range topics {
		out = append(out, manpage.Section{Title: t.Title, Text: t.Text})
	}
	return out
}
