"""The photos demo: real photographs of varied subjects, each with a caption saying what
is in it, from scikit-image, scikit-learn and Debian's wallpaper and puzzle packages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tools.demos import fetch
from tools.demos.common import (
    LONG_SIDE,
    PHOTO_QUALITY,
    clear,
    save_jpeg,
    write_captions,
    write_sources,
)

#: The scikit-image and scikit-learn photos keep their own size and quality 90, the bytes
#: assets/photos had before the demos existed (tests hash them).
SAMPLE_QUALITY = 90

SKIMAGE = "scikit-image 0.26 skimage.data"
SKLEARN = "scikit-learn 1.9 load_sample_images()"
LOMIRI16 = "lomiri-wallpapers-16.04"
LOMIRI20 = "lomiri-wallpapers-20.04"
MATE = "mate-backgrounds"
PLASMA = "plasma-workspace-wallpapers"
PALAPELI = "palapeli-data"


@dataclass(frozen=True)
class Photo:
    """One photo: its file name here, where it comes from, its caption and credit line."""

    name: str
    package: str
    #: skimage.data function, sklearn sample name, or a path inside the Debian package.
    ref: str
    caption: str
    subject: str
    licence: str


def _lomiri(name: str, ref: str, caption: str, subject: str, licence: str) -> Photo:
    return Photo(name, LOMIRI16, f"usr/share/backgrounds/{ref}", caption, subject, licence)


def _mate(name: str, ref: str, caption: str, subject: str, author: str) -> Photo:
    path = f"usr/share/backgrounds/mate/nature/{ref}"
    return Photo(name, MATE, path, caption, subject, f"GPL-2+, {author}")


def _plasma(
    name: str, ref: str, caption: str, subject: str, author: str, size: str = "1920x1080"
) -> Photo:
    path = f"usr/share/wallpapers/{ref}/contents/images/{size}.jpg"
    licence = f"LGPL-3.0 (its metadata.json; the package's copyright file: GPL-2+), {author}"
    return Photo(name, PLASMA, path, caption, subject, licence)


def _palapeli(ref: str, caption: str, subject: str, author: str) -> Photo:
    path = f"usr/share/palapeli/collection/{ref}"
    return Photo(ref, PALAPELI, path, caption, subject, f"GPL-2+, {author}")


PHOTOS: tuple[Photo, ...] = (
    Photo(
        "astronaut.jpg",
        SKIMAGE,
        "astronaut",
        "an astronaut in a space suit with the American flag",
        "space",
        "NASA Great Images, public domain",
    ),
    Photo(
        "coffee.jpg",
        SKIMAGE,
        "coffee",
        "a cup of coffee on a saucer",
        "food",
        "photo by Rachel Michetti, CC0",
    ),
    Photo(
        "chelsea.jpg",
        SKIMAGE,
        "chelsea",
        "Chelsea the tabby cat",
        "animal",
        "photo by Stefan van der Walt, CC0",
    ),
    Photo(
        "rocket.jpg",
        SKIMAGE,
        "rocket",
        "a SpaceX Falcon 9 rocket on the launch pad",
        "space",
        "SpaceX photos, public domain",
    ),
    Photo(
        "camera.jpg",
        SKIMAGE,
        "camera",
        "a photographer with a camera on a tripod, black and white",
        "people",
        "photo by Lav Varshney, CC0",
    ),
    Photo(
        "coins.jpg",
        SKIMAGE,
        "coins",
        "old Greek coins on a plain background, black and white",
        "object",
        "Brooklyn Museum collection, no known copyright restrictions",
    ),
    Photo(
        "clock.jpg",
        SKIMAGE,
        "clock",
        "a motion-blurred wall clock, black and white",
        "object",
        "photo by Stefan van der Walt, public domain",
    ),
    Photo(
        "hubble_deep_field.jpg",
        SKIMAGE,
        "hubble_deep_field",
        "galaxies in deep space seen by the Hubble telescope",
        "space",
        "NASA/ESA Hubble, public domain",
    ),
    Photo(
        "retina.jpg",
        SKIMAGE,
        "retina",
        "a fundus photograph of a human eye retina",
        "science",
        "from Wikimedia Commons, CC0 1.0",
    ),
    Photo(
        "brick.jpg",
        SKIMAGE,
        "brick",
        "a brick wall, black and white",
        "texture",
        "CC0Textures Bricks25, CC0",
    ),
    Photo(
        "grass.jpg",
        SKIMAGE,
        "grass",
        "a patch of grass, black and white",
        "texture",
        "DeviantArt linolafett Grass-01, CC0",
    ),
    Photo(
        "gravel.jpg",
        SKIMAGE,
        "gravel",
        "gravel stones on the ground, black and white",
        "texture",
        "CC0Textures Gravel04, CC0",
    ),
    Photo(
        "moon.jpg",
        SKIMAGE,
        "moon",
        "craters on the surface of the Moon, black and white",
        "space",
        "scikit-image data, BSD-3-Clause (the package's licence)",
    ),
    Photo(
        "page.jpg",
        SKIMAGE,
        "page",
        "a scanned page of printed text about region-based segmentation",
        "document",
        "scikit-image data, BSD-3-Clause (the package's licence)",
    ),
    Photo(
        "text.jpg",
        SKIMAGE,
        "text",
        "handwritten numbers and symbols on a sheet of paper, black and white",
        "document",
        "from Wikipedia File:Corner.png, public domain",
    ),
    Photo(
        "tissue_microscope.jpg",
        SKIMAGE,
        "immunohistochemistry",
        "stained tissue of colonic glands under a microscope",
        "science",
        "Center for Microscopy And Molecular Imaging, no known copyright restrictions",
    ),
    Photo(
        "cell_microscope.jpg",
        SKIMAGE,
        "cell",
        "a single cell floating in saline under a microscope, black and white",
        "science",
        "Paul Müller et al., CC0",
    ),
    Photo(
        "china.jpg",
        SKLEARN,
        "china.jpg",
        "a Chinese temple with trees and a cloudy sky",
        "building",
        "by danielbuechele on Flickr, CC BY 2.0",
    ),
    Photo(
        "flower.jpg",
        SKLEARN,
        "flower.jpg",
        "a pink flower with yellow stamens",
        "plant",
        "by vultilion on Flickr, CC BY 2.0",
    ),
    _palapeli(
        "castle-maintenon.jpg",
        "the Château de Maintenon, a French castle with round towers, under a blue sky",
        "building",
        "Eric Pouhier",
    ),
    _palapeli(
        "cincinnati-bridge.jpg",
        "the Roebling suspension bridge in Cincinnati lit up at night over the river",
        "city",
        "Derek Jensen",
    ),
    _palapeli(
        "citrus-fruits.jpg",
        "slices of oranges, lemons and limes lit from behind",
        "food",
        "US Department of Agriculture",
    ),
    _palapeli(
        "european-honey-bee.jpg", "a honey bee on a purple aster flower", "animal", "John Severns"
    ),
    _palapeli(
        "panther-chameleon-female.jpg",
        "a panther chameleon climbing a branch",
        "animal",
        "B. Navez and others",
    ),
    _lomiri(
        "bridge-cables.jpg",
        "Bridge_by_Sander_Klootwijk.jpg",
        "steel cables of a bridge against a blue sky above a wide beach",
        "city",
        "CC-BY-SA-4.0, Sander Klootwijk",
    ),
    _lomiri(
        "dragonfly.jpg",
        "Dragonfly_by_Bolly.jpg",
        "a dragonfly resting on a twig among green leaves under a blue sky",
        "animal",
        'CC-BY-SA-4.0, "Bolly"',
    ),
    _lomiri(
        "fig-in-red-bowl.jpg",
        "Picture_0B_by_freespace.jpg",
        "half a fig in a red bowl on grey concrete",
        "food",
        'CC-BY-4.0, Trevor "Freespace"',
    ),
    _lomiri(
        "paint-brushes.jpg",
        "Picture_1A_by_freespace.jpg",
        "colourful paint brushes standing in a jar",
        "object",
        'CC-BY-4.0, Trevor "Freespace"',
    ),
    _lomiri(
        "djembe-living-room.jpg",
        "Wine_by_Jakkub_Mede.jpg",
        "a djembe drum on a beanbag in a living room, a bottle of wine on the table",
        "home",
        "CC-BY-4.0, Jakub Mede",
    ),
    _lomiri(
        "autumn-mountain.jpg",
        "aitzgorri_by_Aitzol_Berasategi.jpg",
        "a rocky mountain above an autumn forest and a green meadow",
        "landscape",
        "CC-BY-4.0, Aitzol Berasategi",
    ),
    _lomiri(
        "bird-under-lamp.jpg",
        "free_by_Peter_Nerlich.jpg",
        "a small wooden bird figurine flying under a ceiling lamp",
        "home",
        "CC-BY-SA-4.0, Peter Nerlich",
    ),
    _lomiri(
        "dogs-at-window.jpg",
        "friends_by_Aitzol_Berasategi.jpg",
        "two brown spaniel dogs looking out of the window of a wooden house",
        "animal",
        "CC-BY-4.0, Aitzol Berasategi",
    ),
    _lomiri(
        "white-wall-clock.jpg",
        "greentock_by_Peter_Nerlich.jpg",
        "close-up of a white wall clock with black hands",
        "object",
        "CC-BY-SA-4.0, Peter Nerlich",
    ),
    _lomiri(
        "forest-waterfall.jpg",
        "life_by_Aitzol_Berasategi.jpg",
        "a small waterfall in a rocky stream in a forest",
        "landscape",
        "CC-BY-4.0, Aitzol Berasategi",
    ),
    _lomiri(
        "mountain-path.jpg",
        "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "a dirt path across a meadow towards snowy mountain peaks",
        "landscape",
        "CC-BY-4.0, Aitzol Berasategi",
    ),
    _lomiri(
        "dandelions-sunset.jpg",
        "seeding_by_Clements_Engelhardt.jpg",
        "dandelion seed heads in a meadow at sunset",
        "plant",
        "CC0-1.0, Clemens Engelhardt",
    ),
    _lomiri(
        "hilltop-sunset.jpg",
        "sunset_by_Aitzol_Berasategi.jpg",
        "the sun setting over mountains, seen from a hilltop",
        "landscape",
        "CC-BY-4.0, Aitzol Berasategi",
    ),
    Photo(
        "nuthatch.jpg",
        LOMIRI20,
        "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
        "a nuthatch bird clinging to a tree trunk",
        "animal",
        "CC-BY-SA-3.0, Lukas Baubkus",
    ),
    _mate(
        "water-drop.jpg",
        "Aqua.jpg",
        "a drop of water splashing into water, close-up",
        "nature",
        "Charles Barbin",
    ),
    _mate(
        "green-leaf.jpg",
        "Blinds.jpg",
        "close-up of a bright green leaf and its veins",
        "plant",
        "Lennart Poettering, Andrea Cimitan",
    ),
    _mate(
        "dune-grass.jpg",
        "Dune.jpg",
        "dune grass in front of the sea",
        "landscape",
        "Marco Cogoni, Hylke Bons",
    ),
    _mate(
        "orange-gerbera.jpg",
        "FreshFlower.jpg",
        "an orange gerbera flower, close-up",
        "plant",
        "Jens Ansorg",
    ),
    _mate(
        "marigold.jpg",
        "Garden.jpg",
        "a red and orange marigold flower in a garden",
        "plant",
        "Charles Barbin",
    ),
    _mate(
        "grass-blades.jpg",
        "GreenMeadow.jpg",
        "fresh green blades of grass, close-up",
        "plant",
        "Timothy Schellhase, Lapo Calamandrei",
    ),
    _mate(
        "ladybird.jpg",
        "LadyBird.jpg",
        "a ladybird on a grass stem among blue forget-me-not flowers",
        "animal",
        "Charles Barbin",
    ),
    _mate(
        "raindrops-on-leaves.jpg",
        "RainDrops.jpg",
        "raindrops on green leaves",
        "plant",
        '"blackcombwhistler07"',
    ),
    _mate(
        "storm-over-road.jpg",
        "Storm.jpg",
        "dark storm clouds over a road and fields",
        "landscape",
        "Sergey Nazarov",
    ),
    _mate(
        "dandelion-seeds.jpg",
        "TwoWings.jpg",
        "two dandelion seeds in front of orange flowers",
        "plant",
        "Charles Barbin, Hylke Bons",
    ),
    _mate(
        "wooden-plank.jpg",
        "Wood.jpg",
        "a pale weathered wooden plank, close-up",
        "texture",
        "Jean-François Fortin Tam",
    ),
    _mate(
        "yellow-flower.jpg",
        "YellowFlower.jpg",
        "a yellow flower with many petals, close-up",
        "plant",
        "Charles Barbin",
    ),
    _plasma(
        "pier-at-sunset.jpg",
        "BytheWater",
        "the wooden planks of a pier by a lake in the evening sun",
        "landscape",
        "Maciej Wiklo",
    ),
    _plasma(
        "jetty-in-fog.jpg",
        "ColdRipple",
        "an empty wooden jetty in fog, black and white",
        "landscape",
        "Risto Saukonpää",
    ),
    _plasma(
        "colourful-cups.jpg",
        "ColorfulCups",
        "rows of colourful plastic cups seen from above",
        "object",
        "Dmitri Popov",
        "2560x1600",
    ),
    _plasma(
        "misty-lake-dusk.jpg",
        "DarkestHour",
        "a misty lake at dusk in deep blue light",
        "landscape",
        "Risto Saukonpää",
    ),
    _plasma(
        "rowing-boats.jpg",
        "EveningGlow",
        "wooden rowing boats on a lake shore at sunset",
        "landscape",
        "Ian Hex",
    ),
    _plasma(
        "fallen-leaf.jpg",
        "FallenLeaf",
        "a fallen maple leaf on the ground in autumn",
        "plant",
        "Martin Klapetek",
    ),
    _plasma(
        "building-facade.jpg",
        "Grey",
        "the curved facade of a modern building, black and white",
        "building",
        "Sigi Sagi",
    ),
    _plasma(
        "kite-in-sky.jpg",
        "Kite",
        "a colourful kite high in a blue sky with white clouds",
        "object",
        "Risto Saukonpää",
    ),
    _plasma(
        "moss.jpg",
        "OneStandsOut",
        "green moss plants seen from above, one of them orange",
        "plant",
        "Risto Saukonpää",
    ),
    _plasma(
        "forest-path.jpg",
        "Path",
        "a narrow path through a dark pine forest",
        "landscape",
        "Risto Saukonpää",
    ),
    _plasma(
        "lake-at-dusk.jpg",
        "summer_1am",
        "a calm lake under a pink and purple sky at dusk, reeds on the right",
        "landscape",
        "Risto Saukonpää",
    ),
)

INTRO = """
The photos demo: {count} real photographs, each with a one-line caption (captions.csv:
file_name, caption, subject, credit). Built by `python -m tools.build_demos photos` from the
packages named below; scikit-image and scikit-learn photos keep their size (JPEG quality
90), the others are shrunk to a long side of {side} px (JPEG quality {quality}).
Origin and licence of each file, as its package states them:
"""


def _load(photo: Photo, cache: Path) -> Image.Image:
    if photo.package == SKIMAGE:
        import skimage.data

        return Image.fromarray(getattr(skimage.data, photo.ref)())
    if photo.package == SKLEARN:
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image(photo.ref))
    return Image.open(fetch.debian(photo.package, cache) / photo.ref)


def _origin(photo: Photo) -> str:
    if photo.package in (SKIMAGE, SKLEARN):
        return f"{photo.package} ({photo.ref})"
    version = fetch.DEBIAN[photo.package]
    return f"Debian package {photo.package} {version}, /{photo.ref}"


def build(out: Path, cache: Path) -> list[str]:
    """Write the photos, captions.csv and SOURCES into ``out``; returns the SOURCES lines."""
    clear(out, ["*.jpg"])
    for photo in PHOTOS:
        sample = photo.package in (SKIMAGE, SKLEARN)
        save_jpeg(
            _load(photo, cache),
            out / photo.name,
            long_side=None if sample else LONG_SIDE,
            quality=SAMPLE_QUALITY if sample else PHOTO_QUALITY,
        )
    rows = [(p.name, p.caption, p.subject, p.licence.split(", ", 1)[-1]) for p in PHOTOS]
    write_captions(out / "captions.csv", ("file_name", "caption", "subject", "credit"), rows)
    lines = [f"{p.name}: {_origin(p)}; {p.licence}" for p in PHOTOS]
    intro = INTRO.format(count=len(PHOTOS), side=LONG_SIDE, quality=PHOTO_QUALITY)
    write_sources(out / "SOURCES", intro, lines)
    return lines
