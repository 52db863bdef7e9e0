"""Every property kind stores and returns its values unchanged, edge values included."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models_registry import changes
from models_registry.kinds import KINDS, convert_value

STORED_FILE = {"name": "a.png", "key": "files/x/a.png", "size": 99, "contentType": "image/png"}

ROUND_TRIPS = [
    ("text", ["", "héllo wörld ✓ 日本語 🧱", "x" * 20_000, "quote ' and \" and \\", None]),
    ("rich_text", ["<p>Hi <b>there</b></p>\n"]),
    ("integer", [0, -(2**31), 2**31 - 1, None]),
    ("decimal", [Decimal("9999999999999.99"), Decimal("-0.01"), Decimal("0.10")]),
    ("price", [Decimal("19.99"), Decimal("0.00")]),
    ("boolean", [True, False, None]),
    ("date", [dt.date(1970, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 2, 29)]),
    (
        "datetime",
        [
            dt.datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Amsterdam")),
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2024, 6, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
        ],
    ),
    ("time", [dt.time(0, 0), dt.time(23, 59, 59, 999999)]),
    ("email", ["betty@example.com"]),
    ("url", ["https://example.com/a?b=c#d"]),
    ("phone", ["+31 20 123 4567"]),
    ("json", [{"a": [1, 2, {"b": None}], "ü": "✓"}, [], "just a string", 1.5, True]),
    ("file", [STORED_FILE]),
    ("image", [STORED_FILE]),
]


@pytest.mark.parametrize("kind,values", ROUND_TRIPS, ids=[k for k, _ in ROUND_TRIPS])
def test_values_round_trip(make_app, make_model, classes, kind, values):
    app = make_app()
    make_model(app, "Thing", value=kind)
    Thing = classes(app)["Thing"]
    attname = Thing._mortar.attname("value")
    ids = [Thing.objects.create(**{attname: value}).pk for value in values]

    stored = [Thing.objects.get(pk=pk) for pk in ids]
    assert [getattr(record, attname) for record in stored] == values
    for value, record in zip(values, stored, strict=True):
        if isinstance(value, dt.datetime):  # the same instant, whatever zone it came in
            assert getattr(record, attname).utcoffset() is not None


def test_decimals_keep_28_digits_on_postgresql(make_app, make_model, classes, on_postgres):
    """PostgreSQL's numeric is exact at any size; SQLite keeps 15 significant digits (its REAL),
    which is what Django's DecimalField gives there: the embedded default's known limit."""
    app = make_app()
    make_model(app, "Thing", value="decimal")
    Thing = classes(app)["Thing"]
    attname = Thing._mortar.attname("value")
    big = Decimal("1234567890123456789012345678.99")
    record = Thing.objects.create(**{attname: big})
    stored = getattr(Thing.objects.get(pk=record.pk), attname)
    assert stored == big if on_postgres else stored == Decimal("1234567890123460000000000000.00")


def test_enum_and_password_and_auto_number(make_app, classes):
    app = make_app()
    account = changes.create_model(app, "Account")
    changes.add_property(account, "level", "enum", enum_values=["low", "high"])
    changes.add_property(account, "secret", "password")
    changes.add_property(account, "number", "auto_number")
    Account = classes(app)["Account"]
    attname = Account._mortar.attname

    first = Account.objects.create(**{attname("level"): "high"})
    second = Account(**{attname("secret"): KINDS["password"].parse("s3cret!")})
    second.save()

    assert Account.objects.get(pk=first.pk).__dict__[attname("level")] == "high"
    hashed = Account.objects.get(pk=second.pk).__dict__[attname("secret")]
    assert hashed != "s3cret!" and hashed.startswith("md5$")
    numbers = list(Account.objects.order_by("id").values_list(attname("number"), flat=True))
    assert numbers == [1, 2]


@pytest.mark.parametrize(
    "source,target,value,expected",
    [
        ("text", "integer", "42", 42),
        ("text", "integer", " -7 ", -7),
        ("integer", "decimal", 42, Decimal("42")),
        ("text", "date", "2024-02-29", dt.date(2024, 2, 29)),
        ("text", "datetime", "2024-02-29T10:00:00+01:00",
         dt.datetime(2024, 2, 29, 9, 0, tzinfo=dt.UTC)),
        ("date", "datetime", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, tzinfo=dt.UTC)),
        ("integer", "text", 42, "42"),
        ("decimal", "text", Decimal("1.50"), "1.50"),
        ("boolean", "text", True, "true"),
        ("text", "boolean", "yes", True),
        ("text", "json", '{"a": 1}', {"a": 1}),
        ("decimal", "integer", Decimal("3.00"), 3),
    ],
)
def test_conversions(source, target, value, expected):
    assert convert_value(value, KINDS[source], KINDS[target]) == expected


@pytest.mark.parametrize(
    "source,target,value",
    [
        ("text", "integer", "abc"),
        ("text", "integer", "٤٢"),  # Arabic-Indic digits: Python's int() would take them
        ("text", "integer", "99999999999"),
        ("decimal", "integer", Decimal("3.5")),
        ("text", "date", "31/01/2024"),
        ("text", "date", "2024-02-30"),
        ("datetime", "date", dt.datetime(2024, 1, 5, 10, 0, tzinfo=dt.UTC)),
        ("text", "boolean", "maybe"),
        ("text", "decimal", "NaN"),
        ("text", "json", "{not json"),
    ],
)
def test_conversions_refused(source, target, value):
    with pytest.raises(ValueError):
        convert_value(value, KINDS[source], KINDS[target])


@pytest.mark.parametrize("text", ["1e99999999999999999999", "1e-99999999999999999999"])
def test_a_decimal_beyond_what_decimal_holds_is_refused_as_input(text):
    """A value error (BAD_USER_INPUT to clients), not an internal error."""
    with pytest.raises(ValueError, match="is not a decimal number"):
        KINDS["decimal"].parse(text)
