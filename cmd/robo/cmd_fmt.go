package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/robo-backup/robo/schema"
)

func runFmt(e *env, args []string) error {
	fs := newFlags(e, "fmt", "fmt [-check] [-diff] [FILE|DIR...]")
	check := fs.Bool("check", false, "change nothing; exit 3 and name the files that are not formatted")
	diff := fs.Bool("diff", false, "print the changes as a diff")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// A directory argument means its *.hcl files, as without arguments.
	var files []string
	for _, f := range fs.Args() {
		p := e.path(f)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			dirFiles, err := schema.ConfigFiles(p)
			if err != nil {
				return fatalf("%v", err)
			}
			if len(dirFiles) == 0 {
				return fatalf("no *.hcl files in %s", f)
			}
			files = append(files, dirFiles...)
			continue
		}
		files = append(files, p)
	}
	if len(files) == 0 {
		var err error
		if files, err = schema.ConfigFiles(e.dir); err != nil {
			return err
		}
		if len(files) == 0 {
			return fatalf("no *.hcl files in %s", e.dir)
		}
	}
	unformatted, bad := 0, false
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return fatalf("%v", err)
		}
		name := f
		if rel, err := filepath.Rel(e.dir, f); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
		out, diags := schema.Format(src, name)
		if diags.HasErrors() {
			printDiags(e.stderr, map[string]*hcl.File{name: {Bytes: src}}, diags)
			bad = true
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		e.printf("%s\n", name)
		if *diff {
			e.printf("%s", unifiedDiff(name, string(src), string(out)))
		}
		if !*check {
			fi, err := os.Stat(f)
			if err != nil {
				return err
			}
			if err := os.WriteFile(f, out, fi.Mode().Perm()); err != nil {
				return fatalf("%v", err)
			}
		}
	}
	switch {
	case bad:
		return exitErr(exitError)
	case *check && unformatted > 0:
		fmt.Fprintf(e.stderr, "robo: %d %s not formatted; run robo fmt to fix\n", unformatted, pluralWord(unformatted, "file is", "files are"))
		return exitErr(exitFormat)
	}
	return nil
}

// unifiedDiff renders a minimal line diff (longest common subsequence).
func unifiedDiff(name, a, b string) string {
	al, bl := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	n, m := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s (formatted)\n", name, name)
	i, j := 0, 0
	line := func(prefix, s string) {
		sb.WriteString(prefix + strings.TrimSuffix(s, "\n") + "\n")
	}
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			i++
			j++
		case i < n && (j >= m || lcs[i+1][j] >= lcs[i][j+1]):
			if al[i] != "" {
				line("-", al[i])
			}
			i++
		default:
			if bl[j] != "" {
				line("+", bl[j])
			}
			j++
		}
	}
	return sb.String()
}
