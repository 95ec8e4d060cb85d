#!/usr/bin/perl
# Writes the two small MaxMind databases tests/test_geo.c reads, into the
# folder given as the only argument:
#   flat.mmdb  shaped like @ip-location-db's files: one `country_code` per
#              network, IPv4 and IPv6 in one IPv6 tree
#   city.mmdb  shaped like GeoIP2/GeoLite2-City: nested country, continent,
#              subdivisions and city
# Networks are documentation ranges (RFC 5737, RFC 3849) so no real address
# is ever described. Private ranges are filled on purpose: geo must refuse to
# look them up, so a location here means that check is broken. The output is
# byte-for-byte the same on every run.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

@ARGV == 1 or die "usage: $0 OUTPUT_FOLDER\n";
my $dir = $ARGV[0];
-d $dir or die "$0: $dir is not a folder\n";

sub write_db {
    my ( $path, $tree ) = @_;
    open my $fh, '>:raw', $path or die "$0: cannot write $path: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$0: cannot write $path: $!\n";
}

sub new_tree {
    my ( $type, $types ) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "Tally test database ($type)" },
        map_key_type_callback    => sub { $types->{ $_[0] } },
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => 1,
    );
    # The writer stamps the current time into the metadata; its own tests
    # pin it this way to compare output byte for byte, and so do we.
    $tree->_set_build_epoch(1700000000);
    return $tree;
}

# ---- flat, like geo-whois-asn-country.mmdb ---------------------------------
my $flat = new_tree( 'tally-test-flat', { country_code => 'utf8_string' } );
$flat->insert_network( '203.0.113.0/24',    { country_code => 'DE' } );
$flat->insert_network( '198.51.100.0/24',   { country_code => 'US' } );
$flat->insert_network( '192.0.2.0/25',      { country_code => 'CR' } );
# Not a two-letter code: a damaged or foreign database must not leak it.
$flat->insert_network( '192.0.2.128/26',    { country_code => 'DEU' } );
# Lower case in the file still comes out as one lower-case code.
$flat->insert_network( '192.0.2.192/26',    { country_code => 'nz' } );
$flat->insert_network( '2001:db8::/32',     { country_code => 'FR' } );
$flat->insert_network( '2001:db8:cafe::/48', { country_code => 'JP' } );
$flat->insert_network( '10.0.0.0/8',        { country_code => 'GB' } );
$flat->insert_network( '192.168.0.0/16',    { country_code => 'GB' } );
$flat->insert_network( '127.0.0.0/8',       { country_code => 'GB' } );
$flat->insert_network( 'fc00::/7',          { country_code => 'GB' } );
$flat->insert_network( 'fe80::/10',         { country_code => 'GB' } );
write_db( "$dir/flat.mmdb", $flat );

# ---- nested, like GeoIP2-City.mmdb -----------------------------------------
my %city_types = (
    city         => 'map',
    continent    => 'map',
    country      => 'map',
    subdivisions => [ 'array', 'map' ],
    names        => 'map',
    code         => 'utf8_string',
    iso_code     => 'utf8_string',
    en           => 'utf8_string',
    de           => 'utf8_string',
    geoname_id   => 'uint32',
);
my $city = new_tree( 'GeoIP2-City', \%city_types );

sub place {
    my (%p) = @_;
    my %r;
    $r{continent} = { code => $p{continent}, geoname_id => 6255148 } if $p{continent};
    $r{country}   = { iso_code => $p{country}, names => { en => $p{country_name} // $p{country} } }
      if $p{country};
    $r{subdivisions} = [ map { { iso_code => $_ } } @{ $p{regions} } ] if $p{regions};
    $r{city} = { names => $p{city} } if $p{city};
    return \%r;
}

$city->insert_network( '203.0.113.0/24', place(
    continent => 'EU', country => 'DE', country_name => 'Germany',
    regions   => [ 'BY' ], city => { en => 'Munich', de => "M\x{fc}nchen" } ) );
$city->insert_network( '198.51.100.0/24', place( continent => 'NA', country => 'US' ) );
# Central America: MaxMind says NA, Matomo says amc.
$city->insert_network( '192.0.2.0/25', place(
    continent => 'NA', country => 'CR', regions => [ 'SJ' ], city => { en => "San Jos\x{e9}" } ) );
# A city name longer than the 63 bytes geo keeps, made of 2-byte characters:
# cutting must not split one.
$city->insert_network( '192.0.2.128/25', place(
    continent => 'EU', country => 'FR', regions => [ 'THISISTOOLONG' ],
    city => { en => "\x{e9}" x 40 } ) );
$city->insert_network( '2001:db8::/32', place(
    continent => 'EU', country => 'FR', regions => [ 'IDF', '75' ], city => { en => 'Paris' } ) );
# Mexico is North America for Matomo too.
$city->insert_network( '2001:db8:1::/48', place( continent => 'NA', country => 'MX' ) );
# Only a continent (MaxMind does this for some anycast ranges).
$city->insert_network( '2001:db8:2::/48', place( continent => 'EU' ) );
# A country without a continent: geo derives it.
$city->insert_network( '2001:db8:3::/48', place( country => 'JP' ) );
# A city name in German only: no English name, no city.
$city->insert_network( '2001:db8:4::/48', place(
    continent => 'EU', country => 'AT', city => { de => 'Wien' } ) );
# A continent code of two bytes that are not ASCII ("\x{e9}" in UTF-8): not a
# code; the continent comes from the country.
$city->insert_network( '2001:db8:5::/48', place( continent => "\x{e9}", country => 'DE' ) );
$city->insert_network( '10.0.0.0/8', place( continent => 'EU', country => 'GB', city => { en => 'London' } ) );
$city->insert_network( 'fc00::/7',   place( continent => 'EU', country => 'GB', city => { en => 'London' } ) );
write_db( "$dir/city.mmdb", $city );
