{#- For a table holding two grains of the same measures (a `grain_column` telling which), fails
    on every `group_by` key where the sum of a measure over the rows of the first grain differs
    from its sum over the rows of the second by more than `tolerance` (missing = 0): both grains
    must partition the same totals, so nothing is lost or counted twice. `grains`: a list of two
    values of grain_column. -#}
{% test sums_match_across_grains(model, grain_column, grains, group_by, measures, tolerance=0.0001) %}

{%- if grains | length != 2 -%}
    {{ exceptions.raise_compiler_error("sums_match_across_grains: grains must list exactly two grains, got " ~ grains) }}
{%- endif %}

with

sums as (

    select
        {{ group_by | join(', ') }}
        {%- for measure in measures %}
        , coalesce(sum(case when {{ grain_column }} = '{{ grains[0] }}' then {{ measure }} end), 0) as {{ measure }}__first
        , coalesce(sum(case when {{ grain_column }} = '{{ grains[1] }}' then {{ measure }} end), 0) as {{ measure }}__second
        {%- endfor %}

    from {{ model }}
    where {{ grain_column }} in ('{{ grains[0] }}', '{{ grains[1] }}')
    group by {{ group_by | join(', ') }}

)

select *
from sums
where
    false
    {%- for measure in measures %}
    or abs({{ measure }}__first - {{ measure }}__second) > {{ tolerance }}
    {%- endfor %}

{% endtest %}
