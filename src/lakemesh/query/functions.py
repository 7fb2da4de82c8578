"""The function allow-list: what a governed statement may call.

Names are DuckDB's (the engine that runs the statement). Anything not listed is refused, so a new
engine function that reads files, the network, settings or the environment stays out until someone
reviews it. sqlglot parses many functions into typed nodes (``strftime`` becomes ``TimeToStr``); the
names of those nodes are derived from this list by parsing each allowed name, so the list stays the
single place to review.
"""

from __future__ import annotations

import math
from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

_SCALAR = """
abs acos acosh add age array_append array_apply array_cat array_concat array_contains
array_cosine_distance array_cosine_similarity array_cross_product array_distance array_distinct
array_dot_product array_extract array_filter array_grade_up array_has array_has_all array_has_any
array_indexof array_inner_product array_intersect array_length array_negative_dot_product
array_negative_inner_product array_pop_back array_pop_front array_position array_prepend
array_push_back array_push_front array_reduce array_resize array_reverse array_reverse_sort
array_select array_slice array_sort array_to_json array_to_string array_transform array_unique
array_value array_where array_zip ascii asin asinh atan atan2 atanh bar base64 bin bit_count
bit_length bit_position bitstring cardinality cbrt ceil ceiling century char_length
character_length chr coalesce concat concat_ws contains cos cosh cot current_date
current_localtime current_localtimestamp current_time current_timestamp damerau_levenshtein
date_add date_diff date_part date_sub date_trunc datediff datepart datesub datetrunc day dayname
dayofmonth dayofweek dayofyear days_in_month decade decode degrees divide editdist3 element_at
encode ends_with enum_code enum_first enum_last enum_range enum_range_boundary epoch epoch_ms
epoch_ns epoch_us equi_width_bins era even exp factorial fdiv filter flatten floor fmod format
format_bytes formatreadabledecimalsize formatreadablesize from_base64 from_binary from_hex
from_json from_json_strict gamma gcd gen_random_uuid get_bit get_current_time
get_current_timestamp grade_up greatest greatest_common_divisor hamming hash hex hour
ilike_escape instr isfinite isinf isnan isodow isoyear jaccard jaro_similarity
jaro_winkler_similarity json json_array json_array_length json_contains json_exists json_extract
json_extract_path json_extract_path_text json_extract_string json_keys json_merge_patch
json_object json_pretty json_quote json_structure json_transform json_transform_strict json_type
json_valid json_value julian last_day lcase lcm least least_common_multiple left left_grapheme len
length length_grapheme levenshtein lgamma like_escape list_any_value list_append list_apply
list_approx_count_distinct list_avg list_bit_and list_bit_or list_bit_xor list_bool_and
list_bool_or list_cat list_concat list_contains list_cosine_distance list_cosine_similarity
list_count list_distance list_distinct list_dot_product list_element list_entropy list_extract
list_filter list_first list_grade_up list_has list_has_all list_has_any list_histogram
list_indexof list_inner_product list_intersect list_kurtosis list_kurtosis_pop list_last list_mad
list_max list_median list_min list_mode list_negative_dot_product list_negative_inner_product
list_pack list_position list_prepend list_product list_reduce list_resize list_reverse
list_reverse_sort list_select list_sem list_skewness list_slice list_sort list_stddev_pop
list_stddev_samp list_string_agg list_sum list_transform list_unique list_value list_var_pop
list_var_samp list_where list_zip ln log log10 log2 lower lpad ltrim make_date make_time
make_timestamp make_timestamp_ms make_timestamp_ns make_timestamptz map map_concat map_contains
map_contains_entry map_contains_value map_entries map_extract map_extract_value map_from_entries
map_keys map_values md5 md5_number md5_number_lower md5_number_upper microsecond millennium
millisecond minute mismatches mod month monthname multiply nanosecond nextafter nfc_normalize
normalized_interval not_ilike_escape not_like_escape now nullif octet_length ord parse_dirname
parse_dirpath parse_filename parse_path pi position pow power prefix printf quarter radians random
range reduce regexp_escape regexp_extract regexp_extract_all regexp_full_match regexp_matches
regexp_replace regexp_split_to_array repeat replace reverse right right_grapheme round round_even
roundbankers row rpad second set_bit sha1 sha256 sign signbit sin sinh split split_part sqrt
starts_with str_split str_split_regex strftime string_split string_split_regex string_to_array
strip_accents strlen strpos strptime struct_concat struct_contains struct_extract
struct_extract_at struct_has struct_indexof struct_insert struct_keys struct_pack struct_position
struct_update struct_values substr substring substring_grapheme subtract suffix tan tanh
time_bucket timezone timezone_hour timezone_minute to_base to_base64 to_binary to_centuries
to_days to_decades to_hex to_hours to_json to_microseconds to_millennia to_milliseconds
to_minutes to_months to_quarters to_seconds to_timestamp to_weeks to_years today
transaction_timestamp translate trim trunc try_strptime typeof ucase unbin unhex unicode
union_extract union_tag union_value upper url_decode url_encode uuid uuid_extract_timestamp
uuid_extract_version uuidv4 uuidv7 week weekday weekofyear xor year yearweek
"""

_AGGREGATE = """
any_value approx_count_distinct approx_quantile approx_top_k arbitrary arg_max arg_max_null
arg_max_nulls_last arg_min arg_min_null arg_min_nulls_last argmax argmin array_agg avg bit_and
bit_or bit_xor bitstring_agg bool_and bool_or corr count count_if count_star countif covar_pop
covar_samp cume_dist dense_rank entropy favg fill first first_value fsum geomean geometric_mean
group_concat histogram histogram_exact json_group_array json_group_object json_group_structure
kahan_sum kurtosis kurtosis_pop lag last last_value lead list listagg mad max max_by mean median
min min_by mode nth_value ntile percent_rank product quantile quantile_cont quantile_disc rank
rank_dense regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy
regr_syy reservoir_quantile row_number sem skewness stddev stddev_pop stddev_samp string_agg sum
sum_no_overflow sumkahan var_pop var_samp variance wavg weighted_avg
"""

# Functions that only exist as syntax (CAST, CASE, x[1], {'a': 1}, x -> '$.a', EXTRACT ...):
# sqlglot's names for the nodes they parse into.
_SYNTAX = """
array case cast collate current_date current_time current_timestamp exists explode extract if
json_extract json_extract_scalar struct to_map try_cast unnest var_map
"""

ALLOWED_FUNCTIONS: frozenset[str] = frozenset((_SCALAR + _AGGREGATE).split())
"""DuckDB scalar, aggregate and window functions a statement may call."""

ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset({"generate_series", "range", "unnest"})
"""Table functions a statement may use in FROM: none of them reads anything."""

_ARGUMENT_LISTS = ("x", "x, y", "x, y, z", "", "x, y, z, w")


def function_name(node: exp.Func) -> str:
    """The lower-case name a function node is known by: as written, or sqlglot's canonical name."""
    if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        return str(node.name).lower()
    if isinstance(node, exp.Pad):
        return "lpad" if node.args.get("is_left") else "rpad"
    if isinstance(node, exp.GenerateSeries) and node.args.get("is_end_exclusive"):
        return "range"  # sqlglot reads DuckDB's range() as an end-exclusive generate_series
    return node.sql_names()[0].lower()


@cache
def _allowed_node_names() -> frozenset[str]:
    """Every name an allowed function can take once parsed: the DuckDB names and sqlglot's."""
    names = set(ALLOWED_FUNCTIONS) | set(_SYNTAX.split())
    for allowed in ALLOWED_FUNCTIONS | ALLOWED_TABLE_FUNCTIONS:
        for arguments in _ARGUMENT_LISTS:
            try:
                parsed = sqlglot.parse_one(f"SELECT {allowed}({arguments})", read="duckdb")
            except SqlglotError:
                continue
            select = parsed.expressions[0] if isinstance(parsed, exp.Select) else None
            if isinstance(select, exp.Func):
                names.add(function_name(select))
    return frozenset(names)


_OPERATORS = (exp.Binary, exp.Connector, exp.Unary, exp.Predicate)


def is_allowed_function(node: exp.Func) -> bool:
    """True when the statement may call ``node``.

    Operators that sqlglot models as functions (``AND``, ``**``, ``@>``, ``->`` ...) are allowed.
    """
    return isinstance(node, _OPERATORS) or function_name(node) in _allowed_node_names()


def is_allowed_table_function(node: exp.Func) -> bool:
    """True when ``node`` may be used as a table function in FROM."""
    name = function_name(node)
    if name in ALLOWED_TABLE_FUNCTIONS:
        return True
    return isinstance(node, exp.GenerateSeries | exp.Unnest | exp.ExplodingGenerateSeries)


MAX_BUILT_VALUE = 10_000_000
"""The most elements (list functions) or characters (string functions) a literal argument may
ask one function call to build. Arguments computed at run time are held by the query's memory
limit instead (its worker process)."""

# Function name -> the position of its size argument among the call's arguments.
_SIZE_ARGUMENTS = {"list_resize": 1, "array_resize": 1, "bar": 3, "to_base": 2}


def built_value_size(node: exp.Func) -> int | None:
    """How many elements or characters ``node`` builds, when its arguments say so literally.

    >>> built_value_size(sqlglot.parse_one("repeat('ab', 10)", read="duckdb"))
    20
    >>> built_value_size(sqlglot.parse_one("range(1, 101, 10)", read="duckdb"))
    10
    """
    if isinstance(node, exp.GenerateSeries):
        if isinstance(node.parent, exp.Table) and node.arg_key == "this":
            return None  # FROM range(n) streams its rows: bounded by max_rows and the timeout
        start, end, step = (_number(node.args.get(key)) for key in ("start", "end", "step"))
        if end is None or (node.args.get("start") is not None and start is None):
            return None
        if node.args.get("step") is not None and (step is None or step == 0):
            return None
        count = (end - (start or 0)) / (step or 1)
        exclusive = bool(node.args.get("is_end_exclusive"))
        return max(0, math.ceil(count) if exclusive else math.floor(count) + 1)
    if isinstance(node, exp.Repeat):
        times = _number(node.args.get("times"))
        text = node.this
        width = len(text.name) if isinstance(text, exp.Literal) and text.is_string else 1
        return None if times is None else int(times) * max(width, 1)
    if isinstance(node, exp.Pad):
        length = _number(node.args.get("expression"))
        return None if length is None else int(length)
    position = _SIZE_ARGUMENTS.get(function_name(node))
    if position is not None and isinstance(node, exp.Anonymous):
        arguments = node.expressions
        if position < len(arguments):
            size = _number(arguments[position])
            return None if size is None else int(size)
    return None


def _number(node: exp.Expr | None) -> float | None:
    """The value of a numeric literal (``-5`` and ``1e9`` too), else None."""
    negative = False
    while isinstance(node, exp.Neg | exp.Paren):
        negative ^= isinstance(node, exp.Neg)
        node = node.this
    if not isinstance(node, exp.Literal) or node.is_string:
        return None
    try:
        value = float(node.this)
    except ValueError:
        return None
    return -value if negative else value
