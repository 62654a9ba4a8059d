use super::{Context, Rule};
use crate::elixir::syntax::{do_block, named_children};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR018",
    name: "complex-else-in-with",
    summary: "A `with` whose `else` handles the errors of many steps at once",
    doc: r##"## Why is this bad?
One `else` that matches the failures of every step of a `with` hides which
step failed, and a new step's error shape silently falls into a clause
meant for another. Past a few clauses (`max-else-clauses` in
`elexirion.toml`, default 3), normalise errors in each step instead.

## Example
```elixir
with {:ok, encoded} <- File.read(path),
     {:ok, decoded} <- Base.decode64(encoded) do
  {:ok, String.trim(decoded)}
else
  {:error, _} -> {:error, :badfile}
  :error -> {:error, :badencoding}
  {:error, :enoent} -> {:error, :missing}
  _ -> {:error, :unknown}
end
```

## Use instead
```elixir
with {:ok, encoded} <- file_read(path),
     {:ok, decoded} <- base_decode64(encoded) do
  {:ok, String.trim(decoded)}
end

defp file_read(path) do
  case File.read(path) do
    {:ok, contents} -> {:ok, contents}
    {:error, _} -> {:error, :badfile}
  end
end
```"##,
    fix: None,
    checks_tests: true,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    let limit = context.settings.max_else_clauses;
    for call in context.calls.iter().filter(|c| c.name.is_local(&["with"])) {
        let Some(block) = do_block(call.node) else { continue };
        for else_block in named_children(block).into_iter().filter(|c| c.kind() == "else_block") {
            let clauses = named_children(else_block).into_iter().filter(|c| c.kind() == "stab_clause").count();
            if clauses > limit {
                let keyword = else_block.child(0).unwrap_or(else_block);
                out.push(RULE.finding_at(
                    keyword,
                    format!("this `else` matches {clauses} error shapes (limit {limit}); normalise each step's errors where they happen"),
                ));
            }
        }
    }
}
