// Command checkargv compares what the fake robocopy.exe received (one JSON
// line per run, parsed back with CommandLineToArgvW) with the arguments
// robo was meant to pass (a JSON file: a list of argument lists, in run
// order does not matter: sets run concurrently). Temporary names are
// normalised first: the digits of robocopy-list-N.log and robocopy-run-N.log,
// and the user's temporary directory (as %TEMP%). It prints each command
// line and exits 1 on any difference.
//
//	checkargv GOT.jsonl WANT.json
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
)

var (
	logName = regexp.MustCompile(`robocopy-(list|run)-[0-9]+\.log`)
	tempDir = regexp.MustCompile(`(?i)C:\\users\\[^\\]+\\Temp\\`)
)

func main() {
	var want [][]string
	b, err := os.ReadFile(os.Args[2])
	if err == nil {
		err = json.Unmarshal(b, &want)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkargv:", err)
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkargv:", err)
		os.Exit(1)
	}
	var got [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Raw  string   `json:"raw"`
			Argv []string `json:"argv"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			fmt.Fprintln(os.Stderr, "checkargv:", err)
			os.Exit(1)
		}
		fmt.Printf("robocopy command line: %s\n", rec.Raw)
		for i, a := range rec.Argv {
			a = tempDir.ReplaceAllString(a, `%TEMP%\`)
			rec.Argv[i] = logName.ReplaceAllString(a, "robocopy-$1-N.log")
		}
		got = append(got, rec.Argv)
	}
	for _, l := range [][][]string{got, want} {
		slices.SortFunc(l, func(a, b []string) int { return slices.Compare(a, b) })
	}
	bad := len(got) != len(want)
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !slices.Equal(g, w) {
			bad = true
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			fmt.Printf("run %d: robocopy parsed\n  %s\nwant\n  %s\n", i+1, gj, wj)
		}
	}
	if bad {
		fmt.Printf("checkargv: %d runs, want %d: the command lines differ from the intended arguments\n", len(got), len(want))
		os.Exit(1)
	}
	fmt.Printf("checkargv: %d robocopy command lines parse back to the intended arguments\n", len(got))
}
