// Command tlogproofcheck reads every C2SP tlog-proof (c2sp.org/tlog-proof@v1) in a file, the way an outside
// verifier would, with Go's golang.org/x/mod/sumdb/note and sumdb/tlog, written from the C2SP text alone:
//
//	tlogproofcheck <file> <verifier key>
//
// For each proof it reads the extra data, the index and the inclusion path, opens the checkpoint that follows with
// the verifier key, and checks with tlog.CheckRecord that the record hash of the extra data is at that index in
// the checkpointed tree. It prints {"proofs": n, "indexes": [...]}, or exits 1 with the first failure.
//
// Build offline against Debian's golang-golang-x-mod-dev: GO111MODULE=off GOPATH=/usr/share/gocode go build.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const header = "c2sp.org/tlog-proof@v1"

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func decode(line string, what string) []byte {
	data, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		fail("%s: %v", what, err)
	}
	return data
}

func hash(line string, what string) tlog.Hash {
	data := decode(line, what)
	if len(data) != tlog.HashSize {
		fail("%s: %d bytes, not %d", what, len(data), tlog.HashSize)
	}
	var h tlog.Hash
	copy(h[:], data)
	return h
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: tlogproofcheck <file> <verifier key>")
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("verifier key: %v", err)
	}
	lines := strings.Split(string(data), "\n")
	line := func(i int) string {
		if i >= len(lines) {
			fail("the file ends inside a proof")
		}
		return lines[i]
	}
	indexes := []int64{}
	for i := 0; i < len(lines); i++ {
		if lines[i] != header {
			continue
		}
		i++
		var extra []byte
		if strings.HasPrefix(line(i), "extra ") {
			extra = decode(line(i)[len("extra "):], "extra")
			i++
		}
		if !strings.HasPrefix(line(i), "index ") {
			fail("line %d: expected an index line, found %q", i+1, line(i))
		}
		index, err := strconv.ParseInt(line(i)[len("index "):], 10, 64)
		if err != nil {
			fail("line %d: %v", i+1, err)
		}
		i++
		var proof tlog.RecordProof
		for ; line(i) != ""; i++ {
			proof = append(proof, hash(line(i), fmt.Sprintf("line %d", i+1)))
		}
		i++
		start := i
		for ; line(i) != ""; i++ {
		}
		i++
		for i < len(lines) && strings.HasPrefix(lines[i], "\u2014 ") {
			i++
		}
		msg := strings.Join(lines[start:i], "\n") + "\n"
		opened, err := note.Open([]byte(msg), note.VerifierList(verifier))
		if err != nil {
			fail("proof of %d: checkpoint: %v", index, err)
		}
		text := strings.Split(opened.Text, "\n")
		size, err := strconv.ParseInt(text[1], 10, 64)
		if err != nil {
			fail("checkpoint size: %v", err)
		}
		root := hash(text[2], "checkpoint root")
		if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(extra)); err != nil {
			fail("proof of %d in tree %d: %v", index, size, err)
		}
		indexes = append(indexes, index)
		i--
	}
	out, _ := json.Marshal(map[string]any{"proofs": len(indexes), "indexes": indexes})
	fmt.Println(string(out))
}
