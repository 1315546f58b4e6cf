package snapshot

import "testing"

func testParseMountinfo(t *testing.T) {
	m := parseMountinfo(`36 35 98:3 /sub /mnt/my\040data rw,noatime master:1 shared:2 - xfs /dev/mapper/vg-lv rw,attr2`)
	if m == nil || m.root != "/sub" || m.point != "/mnt/my data" || m.fsType != "xfs" || m.source != "/dev/mapper/vg-lv" {
		t.Fatalf("%+v", m)
	}
	if parseMountinfo("garbage") != nil || parseMountinfo("1 2 x:y / / rw - ext4 /dev/x rw") != nil {
		t.Error("a bad line parsed")
	}
}
