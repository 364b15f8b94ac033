"""Makes NotoSansCJKsc-Regular-subset.otf from Debian's NotoSansCJK-Regular.ttc.

    python3 assets/fonts/make_font.py \
        /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
        assets/fonts/NotoSansCJKsc-Regular-subset.otf

Step 1 is exactly `pyftsubset TTC --font-number=2 --text-file=CHARSET
--layout-features='' --no-hinting --output-file=OUT` with the code points of
charset() below. Step 2 gives every glyph whose ink starts right of its origin a
zero-area contour (a 1-unit vertical hairline drawn up and back) at x = 0, so that
its outline bounding box starts at the origin. plotters 0.3.7's ab_glyph text
renderer places each glyph's bounding box, not its origin, at the pen position
(it drops the left side bearing), which makes Latin text unevenly spaced; with the
box starting at the origin both that renderer and a correct one place the ink
where the font designer put it. The hairline has no area, so it draws nothing.
"""

import os
import sys
import tempfile

from fontTools import subset
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont


def charset():
    """ASCII, Latin-1, common punctuation and the 3,755 GB2312 level-1 hanzi."""
    cs = set()
    cs.update(range(0x20, 0x7F))  # ASCII
    cs.update(range(0xA0, 0x100))  # Latin-1 punctuation and letters
    cs.update(range(0x2010, 0x2028))  # dashes, quotes, bullets, ellipsis
    cs.update(range(0x2030, 0x203B))  # per mille, primes, guillemets
    cs.update([0x20AC, 0x2116, 0x2122, 0x2190, 0x2191, 0x2192, 0x2193,
               0x2212, 0x221E, 0x2248, 0x2260, 0x2264, 0x2265])
    cs.update(range(0x3000, 0x3020))  # CJK punctuation
    cs.update(range(0xFF01, 0xFF5F))  # fullwidth forms
    cs.update(range(0xFFE0, 0xFFE7))  # fullwidth signs (yen etc.)
    for hi in range(0xB0, 0xD8):  # GB2312 level 1 hanzi: 0xB0A1..0xD7F9
        for lo in range(0xA1, 0xFF):
            if hi == 0xD7 and lo > 0xF9:
                break
            cs.add(ord(bytes([hi, lo]).decode("gb2312")))
    return "".join(chr(c) for c in sorted(cs))


def anchor_at_origin(path_in, path_out):
    """Step 2: add the x = 0 hairline to every glyph whose ink starts right of 0."""
    font = TTFont(path_in, recalcTimestamp=False)
    glyph_set = font.getGlyphSet()
    top = font["CFF "].cff.topDictIndex[0]
    hmtx = font["hmtx"]
    changed = 0
    for name in font.getGlyphOrder():
        cs = top.CharStrings[name]
        bounds_pen = BoundsPen(glyph_set)
        cs.draw(bounds_pen)
        if bounds_pen.bounds is None or bounds_pen.bounds[0] <= 0:
            continue
        y_min = bounds_pen.bounds[1]
        recording = RecordingPen()
        cs.draw(recording)
        advance = hmtx[name][0]
        private = cs.private
        width = None if advance == private.defaultWidthX else advance - private.nominalWidthX
        pen = T2CharStringPen(width, glyph_set)
        pen.moveTo((0, y_min))
        pen.lineTo((0, y_min + 1))
        pen.closePath()
        recording.replay(pen)
        new = pen.getCharString(private=private, globalSubrs=cs.globalSubrs)
        cs.program = new.program
        cs.bytecode = None
        hmtx[name] = (advance, 0)
        changed += 1
    font.save(path_out)
    return changed


def main(ttc, out):
    with tempfile.TemporaryDirectory() as tmp:
        text_file = os.path.join(tmp, "charset.txt")
        with open(text_file, "w", encoding="utf-8") as f:
            f.write(charset())
        subset_path = os.path.join(tmp, "subset.otf")
        subset.main([
            ttc, "--font-number=2", f"--text-file={text_file}",
            "--layout-features=", "--no-hinting", f"--output-file={subset_path}",
        ])
        changed = anchor_at_origin(subset_path, out)
    print(f"{out}: {os.path.getsize(out)} bytes, {changed} glyphs anchored at x = 0")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
