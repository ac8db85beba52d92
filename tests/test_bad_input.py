"""Bad input a new user meets (issue 7 §4): every case a clear error or a correct result.

Ambiguous number formats, a register on a workbook's second sheet, blank rows, values
that must be escaped in messages, text in a multi-byte encoding, and tables that are not
deprivation data. Every fixture is made here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socecon_geo._errors import InputError
from socecon_geo._tables import parse_numbers, shown
from socecon_geo.cli import main
from socecon_geo.deprivation import read_deprivation
from socecon_geo.population import read_population
from socecon_geo.registers import read_organisations


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


# ---------------------------------------------------------------------------------------
# 1. Ambiguous number formats
# ---------------------------------------------------------------------------------------


def test_parse_numbers_refuses_what_it_would_have_to_guess() -> None:
    values = pd.Series(
        [
            *("1,234.50", "1234.5", "£1,234", "1 250 GBP", "", None),
            *("1.234,50", "2,5", "1.234.567", "0,007", "12,34,567", "n/a", "1.500"),
        ]
    )
    parsed = parse_numbers(values, currency=True)
    expected = [1234.5, 1234.5, 1234.0, 1250.0] + [np.nan] * 9
    expected[-1] = 1.5  # a plain UK decimal
    np.testing.assert_array_equal(parsed.values, expected)
    assert np.flatnonzero(parsed.ambiguous).tolist() == [6, 7, 8, 9, 10]
    assert np.flatnonzero(parsed.unparsed).tolist() == [11]
    comma = parse_numbers(
        pd.Series(["1.234,50", "2,5", "1.234.567", "12", "1,234.50", "1.5"]), decimal=","
    )
    np.testing.assert_array_equal(comma.values[:4], [1234.5, 2.5, 1234567.0, 12.0])
    assert np.flatnonzero(comma.ambiguous).tolist() == [4, 5]
    with pytest.raises(InputError, match=r"decimal must be '\.' or ','"):
        parse_numbers(values, decimal=";")  # type: ignore[arg-type]


def test_ambiguous_income_is_refused_with_rows_values_and_fix(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "orgs.csv",
        'Name,Postcode,Turnover,Employees\nA,B1 1AA,"1.234,50",3\nB,B1 1AA,1.234.567,"2,5"\n'
        'C,B1 1AA,"1,234.50",4\nD,B1 1AA,,\n',
    )
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert message == (
        f"file '{path}' has 2 problems:\n"
        "  - column 'Turnover' (income) holds numbers written with a decimal comma or dots "
        "between thousands: source_row 1: '1.234,50', 2: '1.234.567'\n"
        "  - column 'Employees' holds numbers written with a decimal comma or dots between "
        "thousands: source_row 2: '2,5'\n"
        "Such numbers cannot be told safely from UK numbers ('1,234.50', '1234.5'), so they "
        "are not guessed. If the file writes numbers as '1.234,50' (comma decimal, dot "
        "thousands), pass decimal=','; otherwise correct these values in the file."
    )
    with pytest.raises(
        InputError, match=r"(?s)Turnover.*source_row 3: '1,234\.50'.*drop decimal=','"
    ):
        read_organisations(path, decimal=",")


def test_decimal_comma_is_parsed_when_asked_for(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "orgs.csv",
        "Name;Postcode;Income;Employees\nA;B1 1AA;1.234,50;3\nB;B1 1AA;€ 1.234.567;2,5\nC;B1;;\n",
    )
    orgs = read_organisations(path, decimal=",")
    np.testing.assert_array_equal(orgs["income"], [1234.5, 1234567.0, np.nan])
    np.testing.assert_array_equal(orgs["employees"], [3.0, 2.5, np.nan])
    assert orgs.attrs["unparsed"] == {"income": 0, "employees": 0}
    with pytest.raises(InputError, match=r"decimal must be '\.' \(UK numbers"):
        read_organisations(path, decimal="comma")  # type: ignore[arg-type]


def test_uk_numbers_read_as_before(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "orgs.csv",
        'Name,Postcode,Income\nA,B1,"1,234.50"\nB,B1,1234.5\nC,B1,"£1,234"\nD,B1,\nE,B1,n/a\n',
    )
    orgs = read_organisations(path)
    np.testing.assert_array_equal(orgs["income"], [1234.5, 1234.5, 1234.0, np.nan, np.nan])
    assert orgs.attrs["unparsed"]["income"] == 1  # "n/a": left missing and counted, as before


def test_excel_number_cells_stay_numbers_with_decimal_comma(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "orgs.xlsx",
        {"Orgs": [["Name", "Postcode", "Income"], ["A", "B1", 1234.5], ["B", "B1", "1.234,50"]]},
    )
    orgs = read_organisations(path, decimal=",")
    assert orgs["income"].tolist() == [1234.5, 1234.5]
    with pytest.raises(InputError, match=r"column 'Income' holds .*source_row 2: '1\.234,50'"):
        read_organisations(path)


def test_dataframe_numbers_stay_numbers_with_decimal_comma() -> None:
    frame = pd.DataFrame({"name": ["A", "B"], "postcode": "B1", "income": [1234.5, "1.234,50"]})
    assert read_organisations(frame, decimal=",")["income"].tolist() == [1234.5, 1234.5]


def test_cli_decimal_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register = _write(tmp_path / "orgs.csv", 'name,postcode,income\nA Trust,B1 1AY,"1.234,50"\n')
    out = tmp_path / "out.csv"
    assert main(["geocode", str(register), "-o", str(out), "--no-areas"]) == 2
    err = capsys.readouterr().err
    assert "pass --decimal ','" in err
    assert "decimal=" not in err
    assert main(["geocode", str(register), "-o", str(out), "--no-areas", "--decimal", ","]) == 0
    assert pd.read_csv(out)["income"].tolist() == [1234.5]


def test_deprivation_and_population_refuse_ambiguous_numbers() -> None:
    iod = pd.DataFrame(
        {
            "LSOA code (2021)": ["E01000001", "E01000002"],
            "Index of Multiple Deprivation (IMD) Score": ["8,7", "40.1"],
            "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)": [
                "26,525",
                "1.203.5",
            ],
            "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSO": [
                "8",
                "1",
            ],
        }
    )
    with pytest.raises(InputError) as info:
        read_deprivation(iod)
    message = str(info.value)
    assert "column 'imd_score' has 1 value(s) written with a decimal comma" in message
    assert "row 0: '8,7'" in message
    assert "column 'imd_rank' has 1 value(s) written with a decimal comma" in message
    assert "row 1: '1.203.5'" in message
    population = pd.DataFrame(
        {"lsoa21_code": ["E01000001", "E01000002"], "usual_residents": ["1,477", "1.384,5"]}
    )
    with pytest.raises(
        InputError, match=r"1 populations are written with a decimal comma .*'1\.384,5', rows 1"
    ):
        read_population(population)
    population["usual_residents"] = ["1,477", "1384"]
    assert read_population(population)["population"].tolist() == [1477.0, 1384.0]


# ---------------------------------------------------------------------------------------
# 2. A register on a workbook's second sheet
# ---------------------------------------------------------------------------------------


def _two_sheet_workbook(path: Path) -> Path:
    return _workbook(
        path,
        {
            "Notes": [["About this file"], ["Exported from the members database"]],
            "Members": [
                ["Organisation name", "Postcode", "Legal form"],
                ["A Co-op", "B1 1AA", "CIC"],
            ],
            "Empty": [],
        },
    )


def test_register_on_second_sheet_names_every_sheet(tmp_path: Path) -> None:
    path = _two_sheet_workbook(tmp_path / "book.xlsx")
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert message.startswith(f"file '{path}': cannot find the name column and the postcode")
    assert message.endswith(
        "The workbook has 3 sheet(s): 0 'Notes' (headings 'About this file'); 1 'Members' "
        "(headings 'Organisation name', 'Postcode', 'Legal form'; looks like a register); "
        "2 'Empty' (empty). Pick one with sheet_name=, e.g. sheet_name='Members'"
    )
    by_name = read_organisations(path, sheet_name="Members")
    assert by_name["name"].tolist() == ["A Co-op"]
    assert read_organisations(path, sheet_name=1)["name"].tolist() == ["A Co-op"]
    with pytest.raises(InputError, match=r"sheet 2 is empty\. The workbook has 3 sheet"):
        read_organisations(path, sheet_name=2)


def test_columns_naming_headings_of_another_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = _two_sheet_workbook(tmp_path / "book.xlsx")
    with pytest.raises(InputError, match=r"(?s)names a heading that is not .*1 'Members'"):
        read_organisations(path, columns={"name": "Organisation name", "postcode": "Postcode"})
    read = read_organisations(
        path, sheet_name="Members", columns={"name": "Organisation name", "postcode": "Postcode"}
    )
    assert read["postcode"].tolist() == ["B1 1AA"]


def test_one_sheet_workbook_errors_do_not_list_sheets(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "one.xlsx", {"Only": [["Org", "Where"], ["A", "B1 1AA"]]})
    with pytest.raises(InputError) as info:
        read_organisations(path)
    assert "The workbook has" not in str(info.value)
    empty = _workbook(tmp_path / "empty.xlsx", {"Only": []})
    with pytest.raises(
        InputError, match=r"sheet 0 is empty\. It is the workbook's only sheet: export the"
    ):
        read_organisations(empty)


def test_sheet_listing_without_a_register_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx", {"A": [["x", "y"], [1, 2]], "B": [["z"]]})
    with pytest.raises(
        InputError, match=r"1 'B' \(headings 'z'\)\. Pick one with sheet_name= \(its"
    ):
        read_organisations(path)


def test_cli_sheet_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _two_sheet_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "out.csv"
    assert main(["geocode", str(path), "-o", str(out), "--no-areas"]) == 2
    err = capsys.readouterr().err
    assert "--sheet" in err
    assert "sheet_name=" not in err
    for sheet in ("Members", "1"):
        args = ["geocode", str(path), "-o", str(out), "--no-areas", "--sheet-name", sheet]
        assert main(args) == 0
        assert pd.read_csv(out)["name"].tolist() == ["A Co-op"]


# ---------------------------------------------------------------------------------------
# 3. Blank rows: one rule for every format
# ---------------------------------------------------------------------------------------


def _check_blank_rule(orgs: pd.DataFrame, *, rows: list[int], blank: int, read: int) -> None:
    assert orgs["name"].tolist() == ["A", "B"]
    assert orgs["source_row"].tolist() == rows
    assert orgs.attrs["filtered_out"] == {"blank": blank}
    assert orgs.attrs["rows_read"] == read
    assert len(orgs) + sum(orgs.attrs["filtered_out"].values()) == orgs.attrs["rows_read"]


def test_blank_rows_in_csv_are_skipped_counted_and_rows_still_point_at_the_file(
    tmp_path: Path,
) -> None:
    text = "\n\nName,Postcode\nA,B1 1AA\n\n,\n  ,  \nB,B2 2BB\n\n,\n\n"
    orgs = read_organisations(_write(tmp_path / "orgs.csv", text))
    # heading on line 3: source_row n is line 3 + n; the blank rows at the end are not rows
    _check_blank_rule(orgs, rows=[1, 5], blank=3, read=5)
    lines = text.split("\n")
    assert lines[3 + 1 - 1].startswith("A,")
    assert lines[3 + 5 - 1].startswith("B,")


def test_blank_rows_in_xlsx_follow_the_same_rule(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "orgs.xlsx",
        {
            "Orgs": [
                ["Name", "Postcode"],
                ["A", "B1 1AA"],
                [None, None],
                ["  ", None],
                [None, None],
                ["B", "B2 2BB"],
                [None, None],
            ]
        },
    )
    _check_blank_rule(read_organisations(path), rows=[1, 5], blank=3, read=5)


def test_blank_rows_in_json_and_frames_follow_the_same_rule(tmp_path: Path) -> None:
    records = [
        {"Name": "A", "Postcode": "B1 1AA"},
        {},
        {"Name": None, "Postcode": " "},
        {"Name": "B", "Postcode": "B2 2BB"},
    ]
    path = tmp_path / "orgs.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    _check_blank_rule(read_organisations(path), rows=[1, 4], blank=2, read=4)
    frame = pd.DataFrame(records, index=[10, 11, 12, 13])
    orgs = read_organisations(frame)
    _check_blank_rule(orgs, rows=[1, 4], blank=2, read=4)
    assert list(orgs.index) == [10, 13]  # the caller's labels of the kept rows
    frame.to_parquet(tmp_path / "orgs.parquet", index=False)
    _check_blank_rule(read_organisations(tmp_path / "orgs.parquet"), rows=[1, 4], blank=2, read=4)


def test_blank_rows_with_register_filters_keep_the_accounting(tmp_path: Path) -> None:
    heading = (
        "registered_charity_number\tlinked_charity_number\tcharity_name\t"
        "charity_registration_status\tcharity_contact_postcode\n"
    )
    text = (
        heading
        + "1\t0\tA\tRegistered\tB1 1AA\n\t\t\t\t\n2\t0\tGone\tRemoved\tB1 1AA\n"
        + "3\t0\tB\tRegistered\tB2 2BB\n\n"
    )
    orgs = read_organisations(_write(tmp_path / "publicextract.charity.txt", text))
    assert orgs["name"].tolist() == ["A", "B"]
    assert orgs["source_row"].tolist() == [1, 4]
    assert orgs.attrs["filtered_out"] == {"blank": 1, "removed": 1, "linked": 0}
    assert orgs.attrs["rows_read"] == 4


def test_only_blank_rows_below_the_heading_is_an_empty_register(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has a heading row but no data rows"):
        read_organisations(_write(tmp_path / "orgs.csv", "Name,Postcode\n,\n\n"))


# ---------------------------------------------------------------------------------------
# 4. File content in messages is escaped and cut short
# ---------------------------------------------------------------------------------------


def test_shown_escapes_and_cuts() -> None:
    assert shown("Post\x1b[31mcode") == "'Post\\x1b[31mcode'"
    assert shown("bad \ufffd byte") == "'bad \\ufffd byte'"
    assert shown(b"\xff\x00A") == "'\\xff\\x00A'"
    assert shown("é" * 50, limit=5) == "'ééééé…' (50 characters)"
    assert shown(7) == "7"


def test_control_characters_and_long_headings_are_escaped_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes(b"Nam\x01e,Post\x1b[31mcode," + b"x" * 5000 + b"\nA,B1 1AA,1\n")
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert "'Nam\\x01e', 'Post\\x1b[31mcode'" in message
    assert "(5,000 characters)" in message
    assert len(message) < 600
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", message)


def test_undecodable_bytes_are_escaped_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes(b"Name,Postcode\nA\x9d,B1 1AA\n")
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert "byte '\\x9d' at offset 15 is not a Windows-1252 character" in message
    assert "\x9d" not in message
    with pytest.raises(
        InputError, match=r"cannot be decoded as 'utf-8' \(byte '\\x9d' at offset 15\)"
    ):
        read_organisations(path, encoding="utf-8", columns={"name": "Name", "postcode": "Postcode"})
    values = _write(
        tmp_path / "values.csv", 'Name,Postcode,Income\nA,B1,"1,5\x1b[2J"\nB,B1,"2,5"\n'
    )
    with pytest.raises(InputError, match=r"source_row 2: '2,5'") as info:
        read_organisations(values)
    assert "\x1b" not in str(info.value)


# ---------------------------------------------------------------------------------------
# 5. Text in a multi-byte encoding is not read as Windows-1252
# ---------------------------------------------------------------------------------------


def test_shift_jis_is_refused_naming_the_file_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "meibo.csv"
    path.write_bytes("名前,郵便番号\n株式会社,B1 1AA\n".encode("shift_jis"))
    with pytest.raises(InputError) as info:
        read_organisations(path)
    message = str(info.value)
    assert message.startswith(f"file '{path}' is not UTF-8 text, and not plausibly Windows-1252")
    assert "It decodes without error as 'shift_jis' (Japanese)" in message
    assert "Pass the file's encoding, e.g. encoding='shift_jis'" in message
    orgs = read_organisations(
        path, encoding="shift_jis", columns={"name": "名前", "postcode": "郵便番号"}
    )
    assert orgs["name"].tolist() == ["株式会社"]
    assert orgs["postcode"].tolist() == ["B1 1AA"]


def test_shift_jis_that_decodes_as_cp1252_is_still_refused(tmp_path: Path) -> None:
    # every byte of these names is defined in Windows-1252: it used to be read as
    # "Š”Ž®‰ïŽÐ" without a word
    text = "name,postcode\n株式会社,B1 1AA\n事業者名,B2 2BB\n"
    raw = text.encode("shift_jis")
    assert raw.decode("cp1252")
    path = tmp_path / "orgs.csv"
    path.write_bytes(raw)
    with pytest.raises(
        InputError,
        match=r"read as Windows-1252, 16 of its 16 non-ASCII characters come in runs .*"
        r"encoding='shift_jis'",
    ):
        read_organisations(path)
    assert read_organisations(path, encoding="shift_jis")["name"].tolist() == [
        "株式会社",
        "事業者名",
    ]
    json_path = tmp_path / "orgs.json"
    json_path.write_bytes('[{"name": "株式会社", "postcode": "B1 1AA"}]'.encode("shift_jis"))
    with pytest.raises(InputError, match=r"orgs\.json' is not UTF-8 text"):
        read_organisations(json_path)


@pytest.mark.parametrize(
    ("encoding", "names"),
    [
        ("utf-8", ["Café £5", "株式会社"]),
        ("utf-8-sig", ["Café £5", "Größe “Ltd” – «Süß»"]),
        ("cp1252", ["Café £5", "Müller & Söhne", "Größe “Ltd” – «Süß»", "Ærø Crêpes…"]),
    ],
)
def test_ordinary_encodings_still_read(tmp_path: Path, encoding: str, names: list[str]) -> None:
    text = "name,postcode\n" + "".join(f"{n},B1 1AA\n" for n in names)
    path = _write(tmp_path / "orgs.csv", text, encoding)
    assert read_organisations(path)["name"].tolist() == names


def test_utf8_file_with_later_non_utf8_bytes_is_not_garbled(tmp_path: Path) -> None:
    rows = "".join(f"Café {i},B99 {i % 9}ZZ\n" for i in range(60_000))
    path = tmp_path / "late.csv"
    path.write_bytes(("name,postcode\n" + rows).encode() + b"Bad \xe9 Org,B99 9ZZ\n")
    assert path.stat().st_size > 1 << 20
    with pytest.raises(
        InputError, match=r"is UTF-8 text in its first 1 MB, but further on .*'\\xe9'.*mixes"
    ):
        read_organisations(path)
    garbled = read_organisations(path, encoding="cp1252")  # the user's explicit choice
    assert garbled.loc[0, "name"] == "CafÃ© 0"


def test_cli_encoding_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes("name,postcode\n株式会社,B1 1AY\n".encode("shift_jis"))
    out = tmp_path / "out.csv"
    assert main(["geocode", str(path), "-o", str(out), "--no-areas"]) == 2
    err = capsys.readouterr().err
    assert "--encoding shift_jis" in err
    assert "encoding=" not in err
    assert (
        main(["geocode", str(path), "-o", str(out), "--no-areas", "--encoding", "shift_jis"]) == 0
    )
    assert pd.read_csv(out)["name"].tolist() == ["株式会社"]


# ---------------------------------------------------------------------------------------
# 6. Tables that are not deprivation data say what they look like
# ---------------------------------------------------------------------------------------


def test_lsoa_lookup_passed_as_deprivation(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "LSOA11_LSOA21_LAD22_EW_LU.csv",
        "LSOA11CD,LSOA11NM,CHGIND,LSOA21CD,LSOA21NM,LAD22CD,LAD22NM,ObjectId\n"
        "E01000001,City of London 001A,U,E01000001,City of London 001A,E09000001,City,1\n",
    )
    with pytest.raises(InputError) as info:
        read_deprivation(path)
    message = str(info.value)
    assert message.startswith(
        "'LSOA11_LSOA21_LAD22_EW_LU.csv' is not an English Indices of Deprivation file: it "
        "looks like the ONS LSOA 2011 → 2021 lookup ('LSOA11CD', 'CHGIND', 'LSOA21CD'), not "
        "deprivation data; pass it as lsoa_lookup= (to attach_deprivation or assign_areas)."
    )
    assert "several headings mean" not in message


@pytest.mark.parametrize(
    ("columns", "looks"),
    [
        (["lsoa21_code", "usual_residents"], "a population table ('usual_residents')"),
        (["pcds", "lsoa21cd", "oa21cd"], "a postcode table ('pcds')"),
        (
            ["FID", "LSOA21CD", "LSOA21NM", "Shape__Area", "Shape__Length", "GlobalID"],
            "a boundary table ('Shape__Area', 'Shape__Length', 'GlobalID')",
        ),
        (
            ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD"],
            "the ONS LSOA 2021 → ward best-fit lookup ('LSOA21CD', 'WD24CD')",
        ),
    ],
)
def test_other_tables_passed_as_deprivation(columns: list[str], looks: str) -> None:
    frame = pd.DataFrame([["E01000001"] * len(columns)], columns=columns)
    with pytest.raises(InputError, match=re.escape(f"it looks like {looks}, not deprivation")):
        read_deprivation(frame)


def test_unknown_table_passed_as_deprivation_keeps_the_general_message() -> None:
    frame = pd.DataFrame({"lsoa21_code": ["E01000001"], "colour": ["red"]})
    with pytest.raises(InputError, match=r"does not look like an English Indices .*'colour'"):
        read_deprivation(frame)
