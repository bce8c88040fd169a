// Command tlogcheck reads a C2SP tlog-tiles log the way an outside client would, with Go's
// golang.org/x/mod/sumdb/tlog and sumdb/note, and checks everything a reader can check from it.
//
//	tlogcheck <base URL or folder> <verifier key> [step]
//
// It opens the checkpoint with the verifier key, computes the tree's root with tlog.TileHashReader (which refuses
// any tile that does not hash up to the checkpoint's root), reads every entry bundle and checks each entry's
// record hash with an inclusion proof from tlog.ProveRecord, and checks consistency proofs from a few older
// sizes. Every step-th entry gets an inclusion proof (default 1: all). It prints a JSON summary, or exits 1 with
// the first failure.
//
// Build offline against Debian's golang-golang-x-mod-dev: GO111MODULE=off GOPATH=/usr/share/gocode go build.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type source struct {
	base  string
	mu    sync.Mutex
	cache map[string][]byte
	reads int
}

func (s *source) fetch(path string) ([]byte, error) {
	s.mu.Lock()
	if data, ok := s.cache[path]; ok {
		s.mu.Unlock()
		return data, nil
	}
	s.reads++
	s.mu.Unlock()
	var data []byte
	var err error
	if strings.HasPrefix(s.base, "http://") || strings.HasPrefix(s.base, "https://") {
		var resp *http.Response
		resp, err = http.Get(strings.TrimSuffix(s.base, "/") + "/" + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		data, err = io.ReadAll(resp.Body)
	} else {
		data, err = os.ReadFile(filepath.Join(s.base, filepath.FromSlash(path)))
	}
	if err != nil {
		return nil, err
	}
	if path != "checkpoint" {
		s.mu.Lock()
		s.cache[path] = data
		s.mu.Unlock()
	}
	return data, nil
}

// indexPath is C2SP's encoding of a tile index: 3-digit groups, all but the last prefixed with "x".
func indexPath(n int64) string {
	digits := strconv.FormatInt(n, 10)
	for len(digits)%3 != 0 {
		digits = "0" + digits
	}
	var groups []string
	for i := 0; i < len(digits); i += 3 {
		groups = append(groups, digits[i:i+3])
	}
	for i := 0; i < len(groups)-1; i++ {
		groups[i] = "x" + groups[i]
	}
	return strings.Join(groups, "/")
}

// tilePath maps Go's tile (whose own Path is the older sumdb layout, with the height in it) to C2SP's layout.
func tilePath(t tlog.Tile) string {
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	p := "tile/" + level + "/" + indexPath(t.N)
	if t.W != 1<<height {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

type tileReader struct{ src *source }

func (r tileReader) Height() int { return height }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.src.fetch(tilePath(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: tlogcheck <base URL or folder> <verifier key> [step]")
	}
	step := int64(1)
	if len(os.Args) > 3 {
		s, err := strconv.ParseInt(os.Args[3], 10, 64)
		if err != nil || s < 1 {
			fail("step must be a positive integer")
		}
		step = s
	}
	src := &source{base: os.Args[1], cache: map[string][]byte{}}
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("verifier key: %v", err)
	}
	raw, err := src.fetch("checkpoint")
	if err != nil {
		fail("checkpoint: %v", err)
	}
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint does not open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint text has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root: %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, tileReader{src})

	computed, err := tlog.TreeHash(size, hr)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if computed != root {
		fail("tree hash %x, checkpoint root %x", computed, root)
	}

	proofs := 0
	for first := int64(0); first < size; first += 1 << height {
		width := size - first
		if width > 1<<height {
			width = 1 << height
		}
		bundle, err := src.fetch(tilePath(tlog.Tile{H: height, L: -1, N: first >> height, W: int(width)}))
		if err != nil {
			fail("entry bundle %d: %v", first>>height, err)
		}
		for i := first; i < first+width; i++ {
			if len(bundle) < 2 {
				fail("entry bundle %d ends before entry %d", first>>height, i)
			}
			length := int(binary.BigEndian.Uint16(bundle))
			if len(bundle) < 2+length {
				fail("entry bundle %d: entry %d is cut short", first>>height, i)
			}
			leaf := tlog.RecordHash(bundle[2 : 2+length])
			bundle = bundle[2+length:]
			stored, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
			if err != nil {
				fail("leaf hash %d: %v", i, err)
			}
			if stored[0] != leaf {
				fail("entry %d hashes to %x, its level-0 tile holds %x", i, leaf, stored[0])
			}
			if (i-first)%step == 0 || i == size-1 {
				proof, err := tlog.ProveRecord(size, i, hr)
				if err != nil {
					fail("inclusion proof for %d: %v", i, err)
				}
				if err := tlog.CheckRecord(proof, size, root, i, leaf); err != nil {
					fail("inclusion proof for %d does not verify: %v", i, err)
				}
				proofs++
			}
		}
		if len(bundle) != 0 {
			fail("entry bundle %d has %d bytes after its last entry", first>>height, len(bundle))
		}
	}

	consistency := 0
	for _, old := range []int64{1, size / 3, size / 2, size - 1} {
		if old < 1 || old >= size {
			continue
		}
		oldRoot, err := tlog.TreeHash(old, hr)
		if err != nil {
			fail("tree hash at %d: %v", old, err)
		}
		proof, err := tlog.ProveTree(size, old, hr)
		if err != nil {
			fail("consistency proof from %d: %v", old, err)
		}
		if err := tlog.CheckTree(proof, size, root, old, oldRoot); err != nil {
			fail("consistency proof from %d does not verify: %v", old, err)
		}
		consistency++
	}

	summary := map[string]interface{}{
		"origin":      lines[0],
		"size":        size,
		"root":        base64.StdEncoding.EncodeToString(root[:]),
		"leaves":      size,
		"inclusion":   proofs,
		"consistency": consistency,
		"reads":       src.reads,
	}
	if err := json.NewEncoder(os.Stdout).Encode(summary); err != nil {
		fail("%v", err)
	}
}
