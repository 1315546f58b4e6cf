package remote

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
)

func keys(ks ...string) []objInfo {
	out := make([]objInfo, len(ks))
	for i, k := range ks {
		out[i] = objInfo{Key: k}
	}
	return out
}

// flatString renders splitFlat's folders as "folder: objects | prefixes".
func flatString(dirs map[string]*flatDir) []string {
	var out []string
	for p, d := range dirs {
		var os []string
		for _, o := range d.objs {
			os = append(os, o.Key)
		}
		out = append(out, fmt.Sprintf("%q: %q | %q", p, os, d.prefixes))
	}
	sort.Strings(out)
	return out
}

// TestSplitFlat: the folders built from a flat listing are what the
// delimiter listing of each would return (a marker is its folder's
// object, a name both an object and a prefix is both, an empty path
// element is a prefix "a//"); an incomplete listing keeps only the
// folders its last key is not in; keys out of order or outside the prefix
// refuse the listing.
func TestSplitFlat(t *testing.T) {
	all := keys("r/a", "r/a-b", "r/a/", "r/a/x", "r/a/y/z", "r/b//c", "r/c/", "r/d")
	dirs, ok := splitFlat("r/", all, true)
	if !ok {
		t.Fatal("refused a listing in order")
	}
	want := []string{
		`"r/": ["r/a" "r/a-b" "r/d"] | ["r/a/" "r/b/" "r/c/"]`,
		`"r/a/": ["r/a/" "r/a/x"] | ["r/a/y/"]`,
		`"r/a/y/": ["r/a/y/z"] | []`,
		`"r/b/": [] | ["r/b//"]`,
		`"r/b//": ["r/b//c"] | []`,
		`"r/c/": ["r/c/"] | []`,
	}
	if got := flatString(dirs); !reflect.DeepEqual(got, want) {
		t.Errorf("complete:\n got %q\nwant %q", got, want)
	}
	// Stopped at r/b//c: r/, r/b/ and r/b// may have more keys.
	dirs, ok = splitFlat("r/", all[:6], false)
	if !ok {
		t.Fatal("refused an incomplete listing in order")
	}
	want = []string{
		`"r/a/": ["r/a/" "r/a/x"] | ["r/a/y/"]`,
		`"r/a/y/": ["r/a/y/z"] | []`,
	}
	if got := flatString(dirs); !reflect.DeepEqual(got, want) {
		t.Errorf("incomplete:\n got %q\nwant %q", got, want)
	}
	// An empty folder listed whole is an empty listing, not none.
	if dirs, ok := splitFlat("e/", nil, true); !ok || len(dirs) != 1 || dirs["e/"] == nil || dirs["e/"].size() != 0 {
		t.Errorf("empty complete listing: %v %v", flatString(dirs), ok)
	}
	for _, bad := range [][]objInfo{
		keys("r/b", "r/a"),      // out of order
		keys("r/a", "r/a"),      // twice
		keys("r/a", "s/x"),      // outside the prefix
		keys("r/a/x", "r/a/"),   // out of order, in a subfolder
		keys("q", "r/a", "r/b"), // before the prefix
	} {
		if dirs, ok := splitFlat("r/", bad, true); ok {
			t.Errorf("%v: used, %q", bad, flatString(dirs))
		}
	}
}
