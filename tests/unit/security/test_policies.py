"""specs/security/policies.csv: ABAC mask policies by tag. Checked at file:row:column; each match is a
column mask everywhere (personas, table guard, lineage); a target in `policies` mode creates one
Unity Catalog policy instead, and switching modes either way plans the right statements in order."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from test_security_specs import FILES, PROJECT_SPECS

from medallion.security.reconcile import SecurityState, desired_state, plan, table_plan
from medallion.security.statements import SecurableNames
from medallion.specs import check_specs, load_specs

POLICIES = "name,scope,tag_key,tag_value,mask,argument,exempt_groups,description\n"
MASKS = SecurableNames("main", {"bronze": "b", "silver": "s", "gold": "g"}, "sec")
POLICY_MODE = replace(MASKS, use_policies=True)
DIM = "`main`.`s`.`dim_customer`"
TEXT_POLICY = (("SCHEMA `main`.`s`"), "`medallion_pii_text`")
# Unity Catalog's grammar for the statement (no open-source SQL parser knows CREATE POLICY yet).
NAME = r"`[^`]+`(?:\.`[^`]+`)*"
CREATE_POLICY = re.compile(
    rf"CREATE OR REPLACE POLICY {NAME} ON (SCHEMA|CATALOG) {NAME}\n"
    r"COMMENT '[^']*'\n"
    rf"COLUMN MASK {NAME}\nTO {NAME}(, {NAME})*\n(EXCEPT {NAME}(, {NAME})*\n)?FOR TABLES\n"
    r"MATCH COLUMNS has_tag_value\('[^']+', '[^']*'\) AS masked\nON COLUMN masked"
)


def _specs(tmp_path: Path, policies: str, tags_extra: str = "") -> Path:
    """The demo specs with the customer masks replaced by two policies (text and date columns)."""
    specs = tmp_path / "specs"
    shutil.copytree(PROJECT_SPECS, specs)
    (specs / "security" / "column_masks.csv").write_text(FILES["column_masks.csv"])
    tags = (specs / "security" / "tags.csv").read_text()
    tags = tags.replace("dim_customer,signup_date,class,pii", "dim_customer,signup_date,class,pii_date")
    (specs / "security" / "tags.csv").write_text(tags + tags_extra)
    (specs / "security" / "policies.csv").write_text(POLICIES + policies)
    return specs


VALID = (
    "pii_text,silver,class,pii,redact,,pii_readers,Names and contacts\n"
    "pii_date,silver,class,pii_date,year_only,,pii_readers,Dates\n"
)


@pytest.fixture
def spec(tmp_path):
    return load_specs(_specs(tmp_path, VALID)).of("security")[0]


def test_each_matched_column_gets_the_policys_mask(spec):
    assert [(p.name, p.data_type) for p in spec.policies] == [("pii_text", "string"), ("pii_date", "date")]
    derived = {(m.column, m.kind, m.policy, m.exempt_groups) for m in spec.masks}
    assert derived == {
        (c, "redact", "pii_text", ("pii_readers",)) for c in ("first_name", "last_name", "email", "city")
    } | {("signup_date", "year_only", "pii_date", ("pii_readers",))}


def test_masks_mode_masks_each_column_and_policies_mode_creates_one_policy(spec):
    as_masks = plan(desired_state(spec, MASKS), SecurityState())
    assert sum("SET MASK" in s for s in as_masks) == 5 and not any("POLICY" in s for s in as_masks)

    as_policies = plan(desired_state(spec, POLICY_MODE), SecurityState())
    assert not any("SET MASK" in s for s in as_policies)
    created = [s for s in as_policies if s.startswith("CREATE OR REPLACE POLICY")]
    assert len(created) == 2 and all(CREATE_POLICY.fullmatch(s) for s in created), created
    text = next(s for s in created if "`medallion_pii_text`" in s)
    assert "ON SCHEMA `main`.`s`" in text and "EXCEPT `pii_readers`" in text
    assert "COLUMN MASK `main`.`sec`.`medallion_policy_pii_text`" in text
    assert "MATCH COLUMNS has_tag_value('class', 'pii') AS masked" in text
    function = next(
        s
        for s in as_policies
        if s.startswith("CREATE OR REPLACE FUNCTION `main`.`sec`.`medallion_policy_pii_text`")
    )
    assert function.endswith("RETURN '***'")  # the EXCEPT clause, not the function, exempts pii_readers
    # The policy finds its columns by tag: the tags are still set, after the policy.
    tag = f"ALTER TABLE {DIM} ALTER COLUMN `email` SET TAGS ('class' = 'pii')"
    assert as_policies.index(tag) > as_policies.index(text)


def test_switching_modes_plans_the_change_in_a_safe_order(spec):
    masks, policies = desired_state(spec, MASKS), desired_state(spec, POLICY_MODE)
    assert plan(policies, policies, policies) == []  # in place: nothing runs

    to_policies = plan(policies, masks, masks)
    drops = [i for i, s in enumerate(to_policies) if s.endswith("DROP MASK")]
    creates = [i for i, s in enumerate(to_policies) if s.startswith("CREATE OR REPLACE POLICY")]
    assert len(drops) == 5 and max(drops) < min(creates)  # a column is never masked twice
    assert (
        sum(s.startswith("DROP FUNCTION IF EXISTS `main`.`sec`.`medallion_mask_") for s in to_policies) == 5
    )

    to_masks = plan(masks, policies, policies)
    dropped = [i for i, s in enumerate(to_masks) if s.startswith("DROP POLICY")]
    set_masks = [i for i, s in enumerate(to_masks) if "SET MASK" in s]
    assert len(dropped) == 2 and max(dropped) < min(set_masks)
    assert f"DROP POLICY {TEXT_POLICY[1]} ON {TEXT_POLICY[0]}" in to_masks

    # A changed policy (another mask) is replaced; one dropped by hand is created again.
    changed = replace(spec, policies=tuple(replace(p, argument="hidden") for p in spec.policies))
    again = plan(desired_state(changed, POLICY_MODE), policies, policies)
    assert sum(s.startswith("CREATE OR REPLACE POLICY") for s in again) == 0  # same definition, other body
    assert sum(s.startswith("CREATE OR REPLACE FUNCTION") for s in again) == 1  # the redact text changed
    lost = replace(policies, policies={k: v for k, v in policies.policies.items() if k != TEXT_POLICY})
    assert [s for s in plan(policies, lost, policies) if "POLICY" in s] == [policies.create_sql[TEXT_POLICY]]


def test_a_new_table_gets_its_policies_before_its_first_row(spec):
    statements = table_plan(desired_state(spec, POLICY_MODE), DIM)
    assert sum(s.startswith("CREATE OR REPLACE POLICY") for s in statements) == 2
    assert any(s.endswith("SET TAGS ('class' = 'pii')") for s in statements)
    assert table_plan(desired_state(spec, POLICY_MODE), "`main`.`g`.`daily_sales`") == [
        "ALTER TABLE `main`.`g`.`daily_sales` SET TAGS ('domain' = 'sales')"
    ]


MALFORMED = [
    (
        "mixed,silver,sensitive,yes,null\n" + VALID,
        "dim_customer,segment,sensitive,yes\ndim_customer,updated_at,sensitive,yes\n",
        "policies.csv:2:mask: policy mixed matches columns of several types",
    ),
    (
        "nothing,gold,class,pii,redact\n" + VALID,
        "",
        "policies.csv:2:tag_value: policy nothing matches no column tagged class=pii in gold",
    ),
    ("pii_text,platinum,class,pii,redact\n", "", "policies.csv:2:scope:"),
    ("pii_text,silver,class,pii,shred\n", "", "policies.csv:2:mask: unknown mask 'shred'"),
    (
        "pii_text,silver,class,pii,partial,x\n",
        "",
        "policies.csv:2:argument: partial needs the number of characters",
    ),
    (
        "pii date,silver,class,pii_date,year_only\n",
        "",
        "policies.csv:2:name: 'pii date' is not a valid policy name",
    ),
    (
        "dates,silver,class,pii_date,hash\n" + VALID,
        "",
        "policies.csv:2:mask: mask hash gives a string but each column policy dates matches is date",
    ),
    (
        VALID + "again,catalog,class,pii,null\n",
        "",
        "policies.csv:4:tag_value: silver.dim_customer.first_name is matched by policies pii_text and again",
    ),
]


@pytest.mark.parametrize(("policies", "tags", "expected"), MALFORMED, ids=[m[2][13:60] for m in MALFORMED])
def test_malformed_policies_are_named_where_they_are(tmp_path, policies, tags, expected):
    problems = [str(p) for p in check_specs(_specs(tmp_path, policies, tags))]
    assert any(f"specs/security/{expected}" in p for p in problems), problems


def test_a_column_masked_twice_and_personal_data_without_either_are_refused(tmp_path):
    specs = _specs(tmp_path, VALID)
    (specs / "security" / "column_masks.csv").write_text(
        FILES["column_masks.csv"] + "dim_customer,email,hash\n"
    )
    problems = [str(p) for p in check_specs(specs)]
    assert any(
        "policies.csv:2:tag_value: silver.dim_customer.email is masked by policy pii_text and by "
        "security/column_masks.csv row 2" in p
        for p in problems
    ), problems
    (specs / "security" / "policies.csv").write_text(POLICIES + VALID.splitlines(keepends=True)[1])
    (specs / "security" / "column_masks.csv").write_text(FILES["column_masks.csv"])
    problems = [str(p) for p in check_specs(specs)]
    assert any("tagged class=pii but has no mask" in p and "policies.csv" in p for p in problems), problems
