"""A small PetImages folder in place of the 786 MB download: Cat/ and Dog/ JPEGs of minicnn's own drawing.

Cats are warm pictures, dogs cool ones, each with a few random discs on it and JPEG's own noise:
easy to tell apart, so a few epochs learn them. One file of each folder is not a JFIF JPEG (a PNG
under a .jpg name), for the tutorial's filter to delete; Cat/6779.jpg is the picture it predicts.
"""

import os

import numpy as np
from PIL import Image, ImageDraw


def write(folder, per_class=40, side=96, seed=0):
    rng = np.random.default_rng(seed)
    for name, base in (("Cat", (200, 120, 60)), ("Dog", (60, 120, 200))):
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        numbers = list(rng.choice(10000, per_class, replace=False))
        if name == "Cat" and 6779 not in numbers:
            numbers[0] = 6779
        for number in numbers:
            colour = np.clip(np.array(base) + rng.integers(-40, 41, 3), 0, 255)
            picture = Image.new("RGB", (side, side), tuple(int(c) for c in colour))
            draw = ImageDraw.Draw(picture)
            for _ in range(3):
                x, y, r = rng.integers(0, side, 2), None, int(rng.integers(6, side // 4))
                y = tuple(int(v) for v in rng.integers(0, 256, 3))
                draw.ellipse([int(x[0]) - r, int(x[1]) - r, int(x[0]) + r, int(x[1]) + r], fill=y)
            picture.save(os.path.join(folder, name, f"{number}.jpg"), "JPEG", quality=90)
        Image.new("RGB", (side, side)).save(os.path.join(folder, name, "corrupt.jpg"), "PNG")


if __name__ == "__main__":
    write("PetImages")
