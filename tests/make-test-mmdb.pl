#!/usr/bin/perl
# Writes the two small geo databases the tests use into DIR (never a
# committed file): flat.mmdb shaped like npm @ip-location-db's (country_code
# only) and city.mmdb shaped like GeoIP2 City (country, subdivisions, city,
# continent). Documentation ranges, so nothing real is claimed.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $dir = shift or die "usage: make-test-mmdb.pl DIR\n";

my %types = (
    country_code => 'utf8_string',
    country      => 'map',
    iso_code     => 'utf8_string',
    subdivisions => ['array', 'map'],
    city         => 'map',
    names        => 'map',
    en           => 'utf8_string',
    continent    => 'map',
    code         => 'utf8_string',
);

sub tree {
    my ($type) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => 'Tally test database' },
        map_key_type_callback    => sub { $types{ $_[0] } },
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => 1,
    );
}

sub write_tree {
    my ($tree, $name) = @_;
    open my $fh, '>:raw', "$dir/$name" or die "cannot write $dir/$name: $!\n";
    $tree->write_tree($fh);
    close $fh or die "cannot write $dir/$name: $!\n";
}

my $flat = tree('tally-test-country');
$flat->insert_network('203.0.113.0/24',  { country_code => 'DE' });
$flat->insert_network('198.51.100.0/24', { country_code => 'US' });
$flat->insert_network('192.0.2.0/24',    { country_code => 'PA' });
$flat->insert_network('2001:db8::/32',   { country_code => 'FR' });
write_tree($flat, 'flat.mmdb');

my $city = tree('tally-test-city');
$city->insert_network('203.0.113.0/24', {
    country      => { iso_code => 'DE' },
    subdivisions => [ { iso_code => 'BY' } ],
    city         => { names => { en => 'Munich' } },
    continent    => { code => 'EU' },
});
$city->insert_network('198.51.100.0/24', {
    country   => { iso_code => 'US' },
    city      => { names => { en => 'Seattle' } },
    continent => { code => 'NA' },
});
$city->insert_network('2001:db8::/32', {
    country      => { iso_code => 'FR' },
    subdivisions => [ { iso_code => 'IDF' } ],
    city         => { names => { en => 'Paris' } },
    continent    => { code => 'EU' },
});
# A network known only by its continent.
$city->insert_network('192.0.2.0/24', { continent => { code => 'OC' } });
write_tree($city, 'city.mmdb');
