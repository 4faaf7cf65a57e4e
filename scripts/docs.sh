#!/usr/bin/env bash
# Build the collection's documentation site (HTML) with antsibull-docs and Sphinx:
#
#   ./scripts/docs.sh [DIR]      (default: build/docs; open DIR/index.html)
#
# Every module, filter, lookup and the stack role's argument specs, plus the guides of
# docs/docsite/ (extra-docs.yml, rst/) and the glossary (docs/glossary.md, converted). Strict:
#   1. antsibull-docs lint-collection-docs --plugin-docs (plugin and role docs, markup, the extra docs;
#      references to this collection, ansible.builtin and galaxy.yml's dependencies: "all" installed
#      collections would take minutes with the ansible package) must pass;
#   2. antsibull-docs sphinx-init --use-current (conf.py, index) and `antsibull-docs collection
#      --fail-on-error` (the RST, as the generated build.sh does), then sphinx-build -W (a warning is an
#      error, an unresolved reference included) with --keep-going (all of them are shown).
# Offline: the only intersphinx inventory is a local one, made from the references the pages hold
# (plugins of other collections, a few pages of the Ansible docs on docs.ansible.com), so no
# inventory is fetched.
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

# Offline references: a local inventory (written once the RST exists, below) of the Ansible docs
# labels the pages use: three pages of the Ansible docs, and the page of every plugin of another
# collection the RST links (docs.ansible.com lays those out by name).
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

python - "$work/rst" "$work/ansible_devel.inv" <<'EOF'
import pathlib
import re
import sys
import zlib

rst, inventory = pathlib.Path(sys.argv[1]), sys.argv[2]
LABELS = {  # label: (page#anchor, title)
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
}
KIND = "(module|filter|lookup|test|role|callback|connection|inventory|become|cache|strategy|vars)"
PLUGIN = r"([a-z0-9_]+)\.([a-z0-9_]+)\.([a-z0-9_]+?)"
for path in rst.rglob("*.rst"):
    text = path.read_text(encoding="utf-8")
    # :ref: labels (a plugin page, or an option of it: ..._module__parameter-x), and :ansplugin:
    found = re.findall(r"ansible_collections\." + PLUGIN + "_" + KIND + r"((?:__[a-z0-9_-]+)?)(?=[>`])", text)
    found += [m + ("",) for m in re.findall(r":ansplugin:`" + PLUGIN + "#" + KIND + "`", text)]
    for namespace, name, plugin, kind, part in found:
        if (namespace, name) == ("voiceops", "avr"):
            continue
        label = "ansible_collections.%s.%s.%s_%s%s" % (namespace, name, plugin, kind, part)
        LABELS[label] = ("collections/%s/%s/%s_%s.html#%s" % (namespace, name, plugin, kind,
                                                              re.sub(r"[^a-z0-9]+", "-", label).strip("-")),
                         "%s.%s.%s %s" % (namespace, name, plugin, kind))
body = "".join("%s std:label -1 %s %s\n" % (label, uri, title) for label, (uri, title) in sorted(LABELS.items()))
with open(inventory, "wb") as inv:
    inv.write(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              b"# The remainder of this file is compressed using zlib.\n")
    inv.write(zlib.compress(body.encode()))
EOF

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
defined = set()
for terms, cells in entries:
    # a word defined by an earlier entry (the module "release" after the concept) is no second term;
    # such an entry shows its whole first cell before its meaning
    kept = [term for term in terms if term.lower() not in defined]
    if not kept:
        sys.exit("scripts/docs.sh: %s: no new word in %r" % (source, cells[0]))
    defined.update(term.lower() for term in kept)
    out += ["  %s" % term for term in kept]
    if len(kept) < len(terms):
        qualifier = inline(cells[0]) + ":"
    else:
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
