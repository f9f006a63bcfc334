package fediverse

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

// Lyceum actors have no avatar yet, and fediverse servers show a grey
// silhouette for actors without an icon; each bridged actor gets an
// identicon instead, drawn from a hash of its did:key, so that it is the
// same wherever it is shown and never changes.

// identicon draws a 5×5 mirrored pattern in a colour taken from seed.
func identicon(seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	const cell, grid = 24, 5
	size := cell*grid + 2*cell
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{
		color.RGBA{0xf4, 0xf4, 0xf0, 0xff},
		color.RGBA{h[0]/2 + 40, h[1]/2 + 40, h[2]/2 + 40, 0xff},
	})
	for y := 0; y < grid; y++ {
		for x := 0; x < 3; x++ {
			if h[3+y*3+x]&1 == 0 {
				continue
			}
			for _, cx := range []int{x, grid - 1 - x} {
				for dy := 0; dy < cell; dy++ {
					for dx := 0; dx < cell; dx++ {
						img.SetColorIndex(cell+cx*cell+dx, cell+y*cell+dy, 1)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func (b *Bridge) serveAvatar(w http.ResponseWriter, r *http.Request) {
	a, err := b.localActor(r.Context(), r.PathValue("name"))
	if err != nil {
		b.notFound(w, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=604800, immutable")
	_, _ = w.Write(identicon(a.DID))
}
