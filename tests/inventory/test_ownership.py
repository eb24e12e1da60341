from inventory.ownership import OwnerDirectory


def directory() -> OwnerDirectory:
    return OwnerDirectory.build(
        users=[
            (1, "olivia", "Olivia.Park@example.com", True),
            (2, "tom", "tom@example.com", False),
        ],
        teams=[(10, "Platform"), (11, "data")],
        owner_keys=["owner", "contact", "team", "created-by"],
        team_keys=["team"],
        creator_keys=["created-by"],
    )


def test_owner_tag_matches_user_by_email_case_insensitively() -> None:
    match = directory().resolve({"Owner": "olivia.park@EXAMPLE.com"})
    assert match.owner_id == 1 and match.source == "tag"
    assert match.evidence["owner"] == {
        "tag": "Owner",
        "value": "olivia.park@EXAMPLE.com",
        "matched": "user",
    }


def test_team_tag_matches_team_by_name_and_owner_tag_adds_person() -> None:
    match = directory().resolve({"team": "platform", "owner": "olivia"})
    assert (match.owner_id, match.team_id) == (1, 10)


def test_unknown_owner_is_kept_raw_and_flagged() -> None:
    match = directory().resolve({"owner": "j.doe@contractor.example"})
    assert match.owner_id is None and match.team_id is None
    assert match.unmatched and match.raw == "j.doe@contractor.example"


def test_creator_tag_is_used_when_no_owner_tag() -> None:
    match = directory().resolve({"created-by": "olivia"})
    assert match.owner_id == 1 and match.source == "creator"


def test_no_owner_tags_means_no_owner() -> None:
    match = directory().resolve({"env": "prod"})
    assert match.owner_id is None and not match.unmatched and match.source == "none"


def test_deactivated_users_are_known_as_inactive() -> None:
    d = directory()
    assert d.resolve({"owner": "tom@example.com"}).owner_id == 2
    assert 2 in d.inactive_user_ids
