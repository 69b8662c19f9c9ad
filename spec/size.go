package spec

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
)

// Media are the volume sizes save --split knows by name: each a little
// under what the medium holds, so that its file system fits beside the
// volume (fat32 is the largest file FAT32 takes).
var Media = map[string]int64{
	"cd":     700 << 20,   // CD-R 80 min: 737,280,000 bytes
	"dvd":    4480 << 20,  // DVD±R: 4,700,372,992 bytes
	"dvd-dl": 8145 << 20,  // DVD+R DL: 8,547,991,552 bytes
	"bd25":   23500 << 20, // BD-R: 25,025,314,816 bytes
	"bd50":   47000 << 20, // BD-R DL: 50,050,629,632 bytes
	"fat32":  4<<30 - 1,   // FAT32: no file of 4 GiB or more
}

// sizeUnits are the units of a size, case aside: the SI ones powers of
// 10, as media are sold (4.7 GB), the IEC ones powers of 2.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseSize reads a size as save --split takes it: a medium's name
// (Media), or a number, possibly with a fraction, and a unit: none or B
// (bytes); K, M, G, T and KB, MB, GB, TB (powers of 10); KiB, MiB, GiB,
// TiB (powers of 2). A fraction of a byte is dropped. Errors wrap
// ErrBadInput.
func ParseSize(s string) (int64, error) {
	if n, ok := Media[strings.ToLower(s)]; ok {
		return n, nil
	}
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	unit, ok := sizeUnits[strings.ToLower(s[len(num):])]
	r, valid := new(big.Rat).SetString(num)
	if !ok || !valid || strings.ContainsAny(num, "eE/+-") || r.Sign() <= 0 {
		return 0, fmt.Errorf("size %s: want a number and a unit (700M, 4.7G, 25GB, 4GiB) or a medium (%s): %w",
			Quote(clip(s)), strings.Join(slices.Sorted(maps.Keys(Media)), ", "), ErrBadInput)
	}
	r.Mul(r, new(big.Rat).SetInt64(unit))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsInt64() || n.Int64() < 1 {
		return 0, fmt.Errorf("size %s: out of range: %w", Quote(clip(s)), ErrBadInput)
	}
	return n.Int64(), nil
}
