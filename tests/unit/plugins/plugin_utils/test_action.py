"""plugin_utils/action.py: how the action plugins judge what project_files found and report its failures."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.voiceops.avr.plugins.plugin_utils.action import StackAction, check_project_file


class _Module(object):
    """Stands for the task's connection: returns what project_files would have returned."""

    def __init__(self, result: Dict[str, Any]):
        self.result = result

    def _execute_module(self, **_: Any) -> Dict[str, Any]:
        return dict(self.result)


def test_a_dangling_link_inside_the_project_is_refused_naming_file_and_target() -> None:
    with pytest.raises(AnsibleActionFail) as exc:
        check_project_file({"exists": False, "symlink": "store/missing.json"}, "/srv/p", "environment.json")
    msg = str(exc.value)
    assert msg.startswith("/srv/p/environment.json: a symlink to 'store/missing.json', which does not exist"), msg
    assert "\n" not in msg


@pytest.mark.parametrize("info", [{"exists": False}, {"exists": True, "type": "file", "symlink": "store/env.json"}])
def test_a_missing_file_or_a_link_to_an_existing_one_is_fine(info: Dict[str, Any]) -> None:
    check_project_file(info, "/srv/p", "environment.json")


def test_a_path_failure_of_project_files_names_project_dir() -> None:
    fake = _Module({"failed": True, "msg": "path: cannot create the directory '/srv/p': Not a directory"})
    with pytest.raises(AnsibleActionFail) as exc:
        StackAction.files_module(fake, {}, path="/srv/p")  # type: ignore[arg-type]
    assert str(exc.value) == "project_dir: cannot create the directory '/srv/p': Not a directory"


def test_other_failures_of_project_files_are_passed_on_as_they_are() -> None:
    fake = _Module({"failed": True, "msg": "owner: 'x' is not a user on this host"})
    with pytest.raises(AnsibleActionFail) as exc:
        StackAction.files_module(fake, {}, path="/srv/p")  # type: ignore[arg-type]
    assert str(exc.value) == "owner: 'x' is not a user on this host"
