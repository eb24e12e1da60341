from inventory.classification import classify
from tests.inventory.records import access_key, role, user


def test_console_user_with_mfa_and_no_keys_is_human() -> None:
    kind, evidence = classify(user("olivia.park", password=True, mfa=True))
    assert kind == "human"
    assert evidence["console_password"] is True and evidence["active_access_keys"] == 0


def test_keys_only_user_is_machine() -> None:
    kind, evidence = classify(user("ci-deployer", keys=[access_key("AKIAAAAAAAAAAAAAAAA1")]))
    assert kind == "machine"
    assert evidence["active_access_keys"] == 1


def test_user_with_password_and_keys_is_machine_used_by_person() -> None:
    kind, evidence = classify(
        user("svc-reporting", password=True, keys=[access_key("AKIAAAAAAAAAAAAAAAA2")])
    )
    assert kind == "machine_used_by_person"
    assert "person" in evidence["reason"]


def test_inactive_keys_do_not_make_a_person_a_machine() -> None:
    kind, _ = classify(
        user(
            "mei.chen", password=True, keys=[access_key("AKIAAAAAAAAAAAAAAAA3", status="inactive")]
        )
    )
    assert kind == "human"


def test_roles_are_always_machines() -> None:
    kind, evidence = classify(role("app-role"))
    assert kind == "machine"
    assert evidence["reason"]
