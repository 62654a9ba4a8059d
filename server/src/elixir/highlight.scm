; Semantic highlighting of Elixir, adapted from tree-sitter-elixir's own
; queries/highlights.scm (https://github.com/elixir-lang/tree-sitter-elixir),
; licensed under the Apache License, Version 2.0
; (http://www.apache.org/licenses/LICENSE-2.0). Changed for the language
; server's legend: captures renamed to its token types, function heads
; marked for parameters, interpolations left unpainted.
;
; A capture name is a token type of the legend, optionally followed by
; modifiers (`@function.declaration`). `@none` paints nothing and clears
; what an enclosing capture painted (an interpolation inside a string).
; `@_parameters` marks the patterns of a function head: the variables in
; them are its parameters. Other captures starting with `_` only feed
; predicates.
;
; Precedence: the innermost node wins; on one node, the later pattern wins.

; Literals

[
  (boolean)
  (nil)
] @keyword

[
  (integer)
  (float)
  (char)
] @number

; Identifiers

(identifier) @variable

((identifier) @macro
 (#any-of? @macro "__MODULE__" "__DIR__" "__ENV__" "__CALLER__" "__STACKTRACE__"))

(comment) @comment

; Quoted content: interpolations are code again

(interpolation) @none

[
  (string)
  (charlist)
] @string

[
  (atom)
  (quoted_atom)
  (keyword)
  (quoted_keyword)
] @enumMember

(sigil) @string

((sigil (sigil_name) @_name) @regexp
 (#match? @_name "^[rR]$"))

; Calls

; * local function call
(call
  target: (identifier) @function)

; * remote function call
(call
  target: (dot
    right: (identifier) @function))

; * field without parentheses or block: `state.count`
(call
  target: (dot
    right: (identifier) @property)
  .)

; * remote call without parentheses or block (overrides the field above)
(call
  target: (dot
    left: [
      (alias)
      (atom)
    ]
    right: (identifier) @function)
  .)

; * definitions and special forms
((call
  target: (identifier) @keyword)
 (#any-of? @keyword
  "def" "defdelegate" "defexception" "defguard" "defguardp" "defimpl" "defmacro" "defmacrop"
  "defmodule" "defn" "defnp" "defoverridable" "defp" "defprotocol" "defstruct"
  "alias" "case" "cond" "for" "if" "import" "quote" "raise" "receive" "require" "reraise"
  "super" "throw" "try" "unless" "unquote" "unquote_splicing" "use" "with"))

; * the name a definition defines: `def name`, `def name(..)`, `def name(..) when ..`
((call
  target: (identifier) @_keyword
  (arguments
    .
    [
      (identifier) @function.declaration
      (call target: (identifier) @function.declaration)
      (binary_operator
        left: [
          (identifier) @function.declaration
          (call target: (identifier) @function.declaration)
        ]
        operator: "when")
    ]))
 (#any-of? @_keyword "def" "defdelegate" "defguard" "defguardp" "defmacro" "defmacrop" "defn" "defnp" "defp"))

; * the parameters of a definition
((call
  target: (identifier) @_keyword
  (arguments
    .
    [
      (call (arguments) @_parameters)
      (binary_operator
        left: (call (arguments) @_parameters)
        operator: "when")
    ]))
 (#any-of? @_keyword "def" "defguard" "defguardp" "defmacro" "defmacrop" "defn" "defnp" "defp"))

; * the parameters of an anonymous function's clauses
(anonymous_function
  (stab_clause
    left: [
      (arguments) @_parameters
      (binary_operator
        left: (arguments) @_parameters
        operator: "when")
    ]))

; * pipe into a function name: `x |> f`
(binary_operator
  operator: "|>"
  right: (identifier) @function)

; * pipe into a remote function without parentheses: `x |> Enum.sum`
(binary_operator
  operator: "|>"
  right: (call
    target: (dot
      right: (identifier) @function)))

; Operators

; * capture operand: `&1`
(unary_operator
  operator: "&"
  operand: (integer) @operator)

(operator_identifier) @operator

(unary_operator
  operator: _ @operator)

(binary_operator
  operator: _ @operator)

(dot
  operator: _ @operator)

(stab_clause
  operator: _ @operator)

; * module attribute: `@name`, `@name value`
(unary_operator
  operator: "@" @decorator
  operand: [
    (identifier) @decorator
    (call
      target: (identifier) @decorator)
    (boolean) @decorator
    (nil) @decorator
  ])

; * documentation: `@doc "..."`, `@moduledoc ~S"""..."""`
((unary_operator
  operator: "@"
  operand: (call
    target: (identifier) @_attribute
    (arguments
      [
        (string)
        (charlist)
        (sigil)
      ] @comment.documentation)))
 (#any-of? @_attribute "moduledoc" "typedoc" "doc"))

; Modules

(alias) @namespace

(call
  target: (dot
    left: (atom) @namespace))

; Reserved words

[
  "when"
  "and"
  "or"
  "not"
  "in"
  "not in"
  "fn"
  "do"
  "end"
  "catch"
  "rescue"
  "after"
  "else"
] @keyword
