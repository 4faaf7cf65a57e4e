#!/usr/bin/env bash
# Build the collection's documentation site (HTML) with antsibull-docs and Sphinx:
#
#   ./scripts/docs.sh [DIR]      (default: build/docs; open DIR/index.html)
#
# Every module, filter, lookup and the stack role's argument specs, plus the guides of
# docs/docsite/ (extra-docs.yml, rst/) and the glossary (docs/glossary.md, converted). Strict:
#   1. antsibull-docs lint-collection-docs --plugin-docs (plugin and role docs, markup, references to
#      this and every installed collection, the extra docs) must pass;
#   2. antsibull-docs sphinx-init --use-current (conf.py, index) and `antsibull-docs collection
#      --fail-on-error` (the RST, as the generated build.sh does), then sphinx-build -W (a warning is an
#      error, an unresolved reference included) with --keep-going (all of them are shown).
# Offline: the only intersphinx inventory is a local one naming the few pages of the Ansible docs
# (docs.ansible.com) the site links to, so no inventory is fetched; a new outside reference fails
# the build until it is added there.
#
# DIR is replaced only when it is absent, empty, or a site this script built before.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST=$(realpath -m -- "${1:-$ROOT/build/docs}")   # relative to where it is called from
cd "$ROOT"
# shellcheck source=scripts/venv.sh
source "$ROOT/scripts/venv.sh" "$ROOT/requirements-test.txt"

COLLECTION=voiceops.avr
MARK=.voiceops-docs   # marks a folder this script built
ANSIBLE_DOCS=https://docs.ansible.com/projects/ansible/devel/

die() { printf 'scripts/docs.sh: %s\n' "$*" >&2; exit 1; }

if [[ -e $DEST && ! -f $DEST/$MARK ]] && [[ ! -d $DEST || -n $(ls -A "$DEST") ]]; then
  die "DIR '$DEST' exists and is not a site built by scripts/docs.sh; give an absent or empty folder"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/voiceops-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. lint (plugin docs, role argument specs, extra docs)
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent --check-extra-docs-refs \
  "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/voiceops/avr" \
  || die "antsibull-docs lint-collection-docs found the problems above"

# 2. the Sphinx project: conf.py and index from sphinx-init, then the collection's RST
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$work" \
  --project "$COLLECTION" --title "$COLLECTION" --copyright "$COLLECTION contributors" \
  --no-add-antsibull-docs-version "$COLLECTION" >/dev/null
[[ -f $work/conf.py && -f $work/build.sh ]] || die "antsibull-docs sphinx-init wrote no conf.py or build.sh"

# Offline references: a local inventory of the Ansible docs labels the generated pages use.
python - "$work/ansible_devel.inv" <<'EOF'
import sys
import zlib

LABELS = [  # label, page#anchor, title
    ("action_plugins", "plugins/action.html#action-plugins", "Action plugins"),
    ("ansible_configuration_settings", "reference_appendices/config.html#ansible-configuration-settings",
     "Ansible Configuration Settings"),
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values",
     "Return Values"),
    ("ansible_collections.community.docker.docker_compose_v2_module",
     "collections/community/docker/docker_compose_v2_module.html"
     "#ansible-collections-community-docker-docker-compose-v2-module",
     "community.docker.docker_compose_v2 module"),
]
body = "".join("%s std:label -1 %s %s\n" % entry for entry in LABELS)
with open(sys.argv[1], "wb") as inv:
    inv.write(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              b"# The remainder of this file is compressed using zlib.\n")
    inv.write(zlib.compress(body.encode()))
EOF
cat >>"$work/conf.py" <<EOF

# scripts/docs.sh: offline, only the local inventory of the Ansible docs labels used
intersphinx_mapping = {'ansible_devel': ('$ANSIBLE_DOCS', '$work/ansible_devel.inv')}
EOF

# The RST of the collection (as the generated build.sh does, failing on a parse error)
mkdir -p "$work/rst"
chmod og-w "$work/rst"   # antsibull-docs wants that directory only writable by itself
antsibull-docs --config-file "$work/antsibull-docs.cfg" collection --use-current --squash-hierarchy \
  --fail-on-error --cleanup everything --dest-dir "$work/rst" "$COLLECTION" >/dev/null
[[ -f $work/rst/index.rst && -d $work/rst/docsite ]] || die "antsibull-docs collection wrote no index.rst or docsite/"

# The glossary (docs/glossary.md: a title, paragraphs, one table word | meaning | not to be confused
# with) as a Sphinx glossary, so that the guides link its words with :term:
python - "$ROOT/docs/glossary.md" "$work/rst/docsite/glossary.rst" <<'EOF'
import re
import sys

source, target = sys.argv[1:]


def inline(text):
    """Markdown code spans become RST literals; bold and emphasis are the same in both."""
    return re.sub(r"`([^`]+)`", r"``\1``", text.strip())


out = [":orphan:", "", ".. _ansible_collections.voiceops.avr.docsite.glossary:", ""]
entries = []
for line in open(source, encoding="utf-8").read().splitlines():
    if line.startswith("# "):
        title = line[2:].strip()
        out += [title, "=" * len(title), ""]
    elif line.startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        terms = re.findall(r"\*\*([^*]+)\*\*", cells[0])
        if terms:   # the header and the |---| line have none
            entries.append((terms, cells))
    elif line.strip():
        out.append(inline(line))
    elif out[-1] != "":
        out.append("")
if not entries:
    sys.exit("scripts/docs.sh: %s has no glossary table" % source)
out += ["", ".. glossary::", ""]
for terms, cells in entries:
    out += ["  %s" % term for term in terms]
    qualifier = re.sub(r"\*\*[^*]+\*\*,?", "", cells[0]).strip()
    out.append("    %s%s" % (qualifier + " " if qualifier else "", inline(cells[1])))
    if len(cells) > 2 and cells[2]:
        out += ["", "    Not to be confused with: %s" % inline(cells[2])]
    out.append("")
with open(target, "w", encoding="utf-8") as rst:
    rst.write("\n".join(out) + "\n")
EOF

# 3. HTML, every warning an error
sphinx-build -q -b html -c "$work" -W --keep-going "$work/rst" "$work/html" \
  || die "sphinx-build reported the warnings above (treated as errors)"
touch "$work/html/$MARK"

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$work/html" "$DEST"
printf 'documentation site: %s/index.html\n' "$DEST"
