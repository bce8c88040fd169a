// Command notecheck gives Go's golang.org/x/mod/sumdb/note verdict on each case of tracechain's C2SP note table.
//
// It reads a JSON array of cases from standard input, each {"id", "kind", "input", "verifier"} with input and
// verifier as base64 of raw bytes (so invalid UTF-8 survives the trip), and writes a JSON object mapping each id
// to {"ok": bool, "error": string}. Kinds: "vkey" parses input as a verifier key with note.NewVerifier; "note"
// opens input as a signed note with note.Open, knowing only the verifier key in "verifier".
//
// Build offline against Debian's golang-golang-x-mod-dev: GO111MODULE=off GOPATH=/usr/share/gocode go build.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

type testCase struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Input    string `json:"input"`
	Verifier string `json:"verifier"`
}

type verdict struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func decode(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notecheck: bad base64 in the case table:", err)
		os.Exit(2)
	}
	return b
}

func judge(c testCase) error {
	switch c.Kind {
	case "vkey":
		_, err := note.NewVerifier(string(decode(c.Input)))
		return err
	case "note":
		v, err := note.NewVerifier(string(decode(c.Verifier)))
		if err != nil {
			return fmt.Errorf("the case's own verifier key is refused: %w", err)
		}
		_, err = note.Open(decode(c.Input), note.VerifierList(v))
		return err
	}
	return fmt.Errorf("unknown case kind %q", c.Kind)
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "notecheck: cannot read the case table:", err)
		os.Exit(2)
	}
	out := make(map[string]verdict, len(cases))
	for _, c := range cases {
		if err := judge(c); err != nil {
			out[c.ID] = verdict{false, err.Error()}
		} else {
			out[c.ID] = verdict{true, ""}
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "notecheck:", err)
		os.Exit(2)
	}
}
