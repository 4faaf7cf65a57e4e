# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-ins of the example catalogs (docs/examples/*.yml), for .ci/build-images.sh.

Prints one line per image of every example catalog, four fields separated by ``|`` (a character
no reference, port or variable name holds; an empty field stays empty):

    <image reference>|<default ports>|<required variables>|<JSON variables>

default ports: the image's ``port`` and the container side of its TCP ``ports`` (space separated);
required variables: the names of its ``env`` entries with ``required: true``, secret or not (the
stand-in's STANDIN_REQUIRED); JSON variables: those with ``format: json`` (STANDIN_JSON). So the
stand-in of an example image fails to start exactly when the catalog says the real one would.

Needs PyYAML only (python3-yaml on Debian; scripts/provision.sh installs it), not the collection:
the build script runs it with the system python. Usage: examples.py [CATALOG.yml ...]
(default: every docs/examples/*.yml of this checkout); run it as `python3 tests/standin/examples.py`.
"""

import glob
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_ports(image):
    candidates = [str(image["port"])] if image.get("port") else []
    for mapping in image.get("ports") or []:
        spec, _sep, proto = str(mapping).partition("/")
        inner = spec.rsplit(":", 1)[-1]
        if proto in ("", "tcp") and inner.isdigit():
            candidates.append(inner)
    return list(dict.fromkeys(candidates))


def standins(path):
    """(reference, ports, required, json) of each image of the catalog file ``path``."""
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    out = []
    for image in data.get("images") or []:
        env = image.get("env") or []
        required = [var["name"] for var in env if var.get("required")]
        json_vars = [var["name"] for var in env if var.get("format") == "json"]
        out.append((image["image"], default_ports(image), required, json_vars))
    return out


def main(argv):
    paths = argv or sorted(glob.glob(os.path.join(ROOT, "docs", "examples", "*.yml")))
    for path in paths:
        for ref, ports, required, json_vars in standins(path):
            print("|".join((ref, " ".join(ports), " ".join(required), " ".join(json_vars))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
