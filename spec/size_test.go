package spec

import (
	"errors"
	"strconv"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"3000000", 3000000},
		{"3MB", 3000000},
		{"3M", 3000000},
		{"700M", 700000000},
		{"4.7G", 4700000000},
		{"4.7gb", 4700000000},
		{"25GB", 25000000000},
		{"4GiB", 4 << 30},
		{"1.5KiB", 1536},
		{"512b", 512},
		{"cd", 700 << 20},
		{"DVD", 4480 << 20},
		{"dvd-dl", 8145 << 20},
		{"bd25", 23500 << 20},
		{"bd50", 47000 << 20},
		{"fat32", 4<<30 - 1},
		{"0.5", 0}, // less than a byte
	} {
		got, err := ParseSize(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "M", "-1M", "1e9", "3XB", "1/2G", "+4G", "dvd9", "4.7 G", "99999999999TB", "0"} {
		if n, err := ParseSize(bad); err == nil || !errors.Is(err, ErrBadInput) {
			t.Errorf("ParseSize(%q) = %d, %v, want ErrBadInput", bad, n, err)
		}
	}
}

// FuzzParseSize: a size the parser accepts is at least one byte, and
// its plain digits read back as the same size; anything else is refused
// as bad input.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"3MB", "4.7G", "4GiB", "dvd", "fat32", "0.5", "1e9", "0x10", "99999999999TB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("ParseSize(%q): %v, not ErrBadInput", s, err)
			}
			return
		}
		if n < 1 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
		if again, err := ParseSize(strconv.FormatInt(n, 10)); err != nil || again != n {
			t.Fatalf("ParseSize(%q) = %d, but %d reads as %d, %v", s, n, n, again, err)
		}
	})
}
