with

source as (

    select * from {{ source('governance', 'register_versions') }}

),

renamed as (

    select
        register_sha256,
        version,
        source_path,
        loaded_at

    from source

)

select * from renamed
