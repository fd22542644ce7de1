"""The HCL scanner: braces, newlines and `=` inside strings, templates, heredocs and comments
are not structure."""

from __future__ import annotations

from alpha.iac.hcl import hcl_value, parse_hcl

TRICKY = """# a } in a comment
resource "aws_iam_role_policy" "p" { // and { here
  name = "x}{y"
  description = "${var.a ? "}" : "{"}"
  /* block
     comment } */
  policy = <<EOT
{ "not": "a block" }
EOT
  list = [1, 2,
    3]
  nested {
    key = value # trailing
  }
}
"""


def test_strings_templates_heredocs_and_comments_hide_structure() -> None:
    [block] = parse_hcl(TRICKY)
    assert block.labels == ("aws_iam_role_policy", "p")
    assert sorted(block.attributes) == ["description", "list", "name", "policy"]
    value = block.attributes["policy"].value
    assert TRICKY[value.start : value.end] == '<<EOT\n{ "not": "a block" }\nEOT'
    span = block.attributes["list"].value
    assert TRICKY[span.start : span.end] == "[1, 2,\n    3]"
    [nested] = block.blocks
    key = nested.attributes["key"].value
    assert TRICKY[key.start : key.end] == "value"
    assert TRICKY[block.span.end - 1] == "}"
    assert block.span.end == len(TRICKY) - 1


def test_values_are_written_as_terraform_fmt_lays_them_out() -> None:
    assert hcl_value({"a": 1, "long_key": "x", "list": ["%{x}"], "has space": {}}, "", "  ") == (
        '{\n  a        = 1\n  long_key = "x"\n  list = [\n    "%%{x}",\n  ]\n  "has space" = {}\n}'
    )
