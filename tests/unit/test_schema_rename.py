"""rename_schema: one schema's name moved everywhere a model says it, nothing else touched."""

from __future__ import annotations

from dbfleet.schema.model import Column, Constraint, Index, Model, Routine, Schema, Table, View
from dbfleet.schema.model import attrs as make_attrs
from dbfleet.schema.rename import rename_schema
from dbfleet.schema.serialize import to_json


def _model(schema: str, quoted: str) -> Model:
    return Model(
        engine="postgresql",
        schemas=(Schema(schema),),
        tables=(
            Table(
                schema,
                "invoices",
                columns=(
                    Column(
                        "id", "integer", False, f"nextval('{quoted}.invoices_id_seq'::regclass)"
                    ),
                    Column("acme", "text"),  # a column named like the schema stays as it is
                ),
                constraints=(
                    Constraint(
                        "invoices_customer_fkey",
                        "foreign key",
                        f"FOREIGN KEY (customer) REFERENCES {quoted}.customers(id)",
                        ("customer",),
                        (schema, "customers", ("id",)),
                    ),
                ),
                indexes=(Index("i", f"CREATE INDEX i ON {quoted}.invoices USING btree (acme)"),),
                attrs=make_attrs(
                    depends_on=(f"rel:{schema}.customers",), partition_of=(schema, "parent")
                ),
            ),
        ),
        views=(View(schema, "v", f"SELECT x.acme FROM {quoted}.invoices x"),),
        routines=(
            Routine(schema, "f", "function", "", f"CREATE FUNCTION {quoted}.f() AS 'myacme.t'"),
        ),
    )


def test_two_schemas_with_the_same_objects_become_equal() -> None:
    acme = rename_schema(_model("acme", "acme"), "acme", "n")
    weird = 'We "ird"'
    other = rename_schema(_model(weird, '"We ""ird"""'), weird, "n")
    assert acme == other and to_json(acme) == to_json(other)
    assert acme.tables[0].constraints[0].references == ("n", "customers", ("id",))
    assert acme.tables[0].columns[1].name == "acme"
    assert "x.acme FROM n.invoices" in acme.views[0].definition
    assert "'myacme.t'" in acme.routines[0].definition  # only whole-name prefixes
    assert rename_schema(acme, "n", "acme") == _model("acme", "acme")


def test_string_literals_keep_the_schema_name_unless_they_name_an_object() -> None:
    """A default of 'acme.com' in tenant acme is data, not a reference: renaming it would make
    every tenant named like a domain differ from the template. A reg* cast names an object."""
    model = Model(
        engine="postgresql",
        schemas=(Schema("acme"),),
        tables=(
            Table(
                "acme",
                "users",
                columns=(
                    Column("id", "integer", False, "nextval('acme.users_id_seq'::regclass)"),
                    Column("site", "text", True, "'acme.com'::text"),
                    Column("note", "text", True, "E'acme.\\'s'::text"),
                ),
            ),
        ),
        routines=(
            Routine(
                "acme",
                "f",
                "function",
                "",
                "CREATE FUNCTION acme.f() RETURNS text LANGUAGE sql AS $$ -- don't\n"
                "SELECT site FROM acme.users WHERE site = 'acme.com' $$",
            ),
        ),
    )
    renamed = rename_schema(model, "acme", "tenant")
    columns = {c.name: c.default for c in renamed.tables[0].columns}
    assert columns == {
        "id": "nextval('tenant.users_id_seq'::regclass)",
        "site": "'acme.com'::text",
        "note": "E'acme.\\'s'::text",
    }
    body = renamed.routines[0].definition
    assert "FROM tenant.users WHERE site = 'acme.com'" in body
    assert body.startswith("CREATE FUNCTION tenant.f()")
