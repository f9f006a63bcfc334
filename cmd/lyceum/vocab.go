package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// vocabNames are the tables `lyceum vocab` lists.
var vocabNames = []string{"subjects", "levels", "types", "licenses", "languages"}

// vocabTerm is one code of a table, as `lyceum vocab` prints it.
type vocabTerm struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (a *app) vocabCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vocab " + strings.Join(vocabNames, "|"),
		Short: "List the codes of subjects, levels, types, licences and languages",
		Long: `List the codes that publish, update and search take, with their English
names: subjects (ISCED-F 2013 fields: --subject), levels (ISCED 2011:
--level), types (resource types: --type), licenses (SPDX ids: --license)
and languages (--language). Any BCP 47 language tag in canonical form is
accepted (fr, pt-BR, gsw); 'languages' lists the ones the web app offers.`,
		Example: "  lyceum vocab subjects | grep -i math\n  lyceum vocab licenses --json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || len(args) == 1 && !slices.Contains(vocabNames, args[0]) {
				return usageError{cmd: "vocab", err: fmt.Errorf("want one of %s", strings.Join(vocabNames, ", "))}
			}
			return nil
		},
		ValidArgs: vocabNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return a.printVocab(args[0])
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

// printVocab lists one table: JSON with every field the table has, or
// aligned code and name columns (subjects indented by their depth).
func (a *app) printVocab(name string) error {
	voc := activity.Vocab()
	var (
		rows []vocabTerm
		data any
	)
	switch name {
	case "subjects":
		data = voc.Subjects
		for _, s := range voc.Subjects {
			indent := map[string]string{"narrow": "  ", "detailed": "    "}[s.Level]
			rows = append(rows, vocabTerm{s.Code, indent + s.Name})
		}
	case "levels":
		data = voc.Levels
		for _, l := range voc.Levels {
			rows = append(rows, vocabTerm{l.Code, l.Name})
		}
	case "types":
		data = voc.Types
		for _, t := range voc.Types {
			rows = append(rows, vocabTerm{t.Code, t.Name})
		}
	case "licenses":
		data = voc.Licenses
		for _, l := range voc.Licenses {
			n := l.Name
			if !l.Open {
				n += " (not an open licence)"
			}
			rows = append(rows, vocabTerm{l.ID, n})
		}
	case "languages":
		names := display.English.Languages()
		for _, tag := range activity.CommonLanguages() {
			rows = append(rows, vocabTerm{tag, names.Name(language.MustParse(tag))})
		}
		data = rows
	}
	if a.jsonOut {
		return a.printJSON(data)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r.Code, r.Name)
	}
	return tw.Flush()
}

// checkVocabFlags makes the named commands refuse a --language, --license,
// --subject, --level or --type value that no vocabulary knows before
// anything is sent, pointing at the `lyceum vocab` table that lists the
// codes. Values in another accepted spelling (cc-by-4.0, FR, ED1) are
// rewritten to their code, so that search filters match what the index
// holds.
func checkVocabFlags(root *cobra.Command, names ...string) {
	for _, name := range names {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd == root {
			continue
		}
		prevE, prev := cmd.PreRunE, cmd.PreRun
		cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
			if err := normalizeVocabFlags(cmd.Flags()); err != nil {
				return err
			}
			if prevE != nil {
				return prevE(cmd, args)
			}
			if prev != nil {
				prev(cmd, args)
			}
			return nil
		}
	}
}

// vocabFlags are the flags checked against a table: the table's name in
// `lyceum vocab` and the code of a value, if it has one.
var vocabFlags = []struct {
	flag, table string
	code        func(string) (string, bool)
}{
	{"language", "languages", languageCode},
	{"license", "licenses", activity.NormalizeLicense},
	{"subject", "subjects", activity.NormalizeSubject},
	{"level", "levels", activity.NormalizeLevel},
	{"type", "types", func(s string) (string, bool) {
		t, ok := activity.LookupType(strings.ToLower(strings.TrimSpace(s)))
		return t.Code, ok
	}},
}

// languageCode is the canonical form of a BCP 47 tag.
func languageCode(s string) (string, bool) {
	if len(s) > 35 {
		return "", false
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	return tag.String(), true
}

// normalizeVocabFlags checks and rewrites the vocabulary flags fs has and
// was given.
func normalizeVocabFlags(fs *pflag.FlagSet) error {
	for _, vf := range vocabFlags {
		f := fs.Lookup(vf.flag)
		if f == nil || !f.Changed {
			continue
		}
		values := []string{f.Value.String()}
		sv, isSlice := f.Value.(pflag.SliceValue)
		if isSlice {
			values = sv.GetSlice()
		}
		for i, v := range values {
			if v == "" {
				continue
			}
			code, ok := vf.code(v)
			if !ok {
				hint := "lists the codes"
				if vf.table == "languages" {
					hint = "lists common ones; any BCP 47 tag such as pt-BR is accepted"
				}
				return api.Invalidf("--%s %s is unknown: `lyceum vocab %s` %s", vf.flag, api.Quote(v), vf.table, hint)
			}
			values[i] = code
		}
		var err error
		if isSlice {
			err = sv.Replace(values)
		} else {
			err = f.Value.Set(values[0])
		}
		if err != nil {
			return fmt.Errorf("--%s: %w", vf.flag, err)
		}
	}
	return nil
}
