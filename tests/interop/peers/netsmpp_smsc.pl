#!/usr/bin/perl
# An SMSC built on Perl Net::SMPP (Debian libnet-smpp-perl), used as an independent peer by the
# interop tests. It serves one connection at a time (Net::SMPP is blocking), accepts every bind (or
# checks --system-id/--password when given), answers each submit_sm with an incrementing message_id
# and, when registered_delivery asks for it (SMPP 3.4 §5.2.17), sends an Appendix B delivery receipt.
# Every event is printed to stdout as one JSON object per line, in the same format as node_smsc.js.
use strict;
use warnings;

use Getopt::Long qw(GetOptions);
use JSON::PP ();
use Net::SMPP ();
use POSIX qw(strftime);

my $host = '127.0.0.1';
my $port = 0;
my $system_id_required;
my $password_required;
my $next_message_id = 700000;
GetOptions(
    'host=s'      => \$host,
    'port=i'      => \$port,
    'system-id=s' => \$system_id_required,
    'password=s'  => \$password_required,
    'id-start=i'  => \$next_message_id,
) or die "usage: $0 [--port N] [--system-id ID] [--password PW]\n";

$| = 1;
my $json = JSON::PP->new->canonical(1);

sub emit {
    my ($event) = @_;
    print $json->encode($event), "\n";
}

# SMPP 3.4 §5.3.2 tags this peer names; any other tag is reported as "0xNNNN".
my %tlv_names = (
    0x020C => 'sar_msg_ref_num',
    0x020E => 'sar_total_segments',
    0x020F => 'sar_segment_seqnum',
    0x0424 => 'message_payload',
    0x0204 => 'user_message_reference',
    0x020A => 'source_port',
    0x020B => 'destination_port',
    0x0426 => 'more_messages_to_send',
    0x0019 => 'payload_type',
    0x001E => 'receipted_message_id',
    0x0427 => 'message_state',
);
my %tlv_is_integer = map { $_ => 1 } (0x020C, 0x020E, 0x020F, 0x0204, 0x020A, 0x020B, 0x0426, 0x0019, 0x0427);

# Net::SMPP keeps each TLV under its numeric tag as raw octets; integers are big-endian (§5.3.2).
sub tlvs_of {
    my ($pdu) = @_;
    my %tlvs;
    for my $key (keys %$pdu) {
        next unless $key =~ /^\d+$/;
        my $value = $pdu->{$key};
        my $name = $tlv_names{$key} // sprintf('0x%04x', $key);
        if ($tlv_is_integer{$key}) {
            my $number = 0;
            $number = $number * 256 + $_ for unpack('C*', $value);
            $tlvs{$name} = $number;
        } else {
            $tlvs{$name} = unpack('H*', $value);
        }
    }
    return \%tlvs;
}

# SMPP 3.4 Appendix B: "text" is the first 20 characters of the message, here reduced to printable
# ASCII so the receipt stays GSM-safe.
sub receipt_text {
    my ($pdu) = @_;
    my $body = $pdu->{short_message} // '';
    $body = $pdu->{0x0424} if $body eq '' && defined $pdu->{0x0424};
    if (($pdu->{esm_class} & 0x40) && length $body) {    # §5.2.12: UDH present
        $body = substr($body, ord(substr($body, 0, 1)) + 1);
    }
    my @chars;
    if (($pdu->{data_coding} & 0x0f) == 0x08) {
        @chars = map { chr } unpack('n*', $body);
    } else {
        @chars = split //, $body;
    }
    @chars = @chars[0 .. 19] if @chars > 20;
    return join '', map { /[\x20-\x7e]/ ? $_ : '?' } @chars;
}

my $listener = Net::SMPP->new_listen($host, port => $port, timeout => 1)
    or die "listen failed: $!\n";

$SIG{TERM} = $SIG{INT} = sub {
    emit({ event => 'stopped' });
    exit 0;
};

emit({ event => 'listening', port => $listener->sockport });

my $session_number = 0;
my %bind_commands = (
    0x00000009 => ['bind_transceiver', 'transceiver'],
    0x00000002 => ['bind_transmitter', 'transmitter'],
    0x00000001 => ['bind_receiver',    'receiver'],
);

while (1) {
    my $connection = $listener->accept or next;    # accept times out every second
    $session_number++;
    serve($connection, $session_number);
}

sub serve {
    my ($conn, $session) = @_;
    emit({ event => 'connect', session => $session });
    my $bind_mode;
    my %receipt_for_seq;
    while (defined(my $pdu = $conn->read_pdu)) {
        my $cmd = $pdu->{cmd};
        if (my $bind = $bind_commands{$cmd}) {
            my ($command, $mode) = @$bind;
            my $status = 0;
            if (defined $bind_mode) {
                $status = 0x05;    # ESME_RALYBND
            } elsif (defined $system_id_required && $pdu->{system_id} ne $system_id_required) {
                $status = 0x0F;    # ESME_RINVSYSID
            } elsif (defined $password_required && $pdu->{password} ne $password_required) {
                $status = 0x0E;    # ESME_RINVPASWD
            }
            emit({
                event => 'bind', session => $session, command => $command,
                system_id => $pdu->{system_id}, password => $pdu->{password},
                system_type => $pdu->{system_type}, interface_version => $pdu->{interface_version},
                command_status => $status,
            });
            my $respond = "${command}_resp";
            if ($status == 0) {
                $bind_mode = $mode;
                $conn->$respond(seq => $pdu->{seq}, system_id => 'netsmpp-smsc');
            } else {
                $conn->$respond(seq => $pdu->{seq}, status => $status, system_id => '');
            }
        } elsif ($cmd == 0x00000004) {    # submit_sm
            if (!defined $bind_mode || $bind_mode eq 'receiver') {
                emit({ event => 'submit_sm_rejected', session => $session, sequence_number => $pdu->{seq} });
                $conn->submit_sm_resp(seq => $pdu->{seq}, status => 0x04, message_id => '');
                next;
            }
            my $message_id = $next_message_id++;
            emit({
                event => 'submit_sm', session => $session, sequence_number => $pdu->{seq},
                message_id => "$message_id",
                pdu => unpack('H*', pack('NNNN', 16 + length $pdu->{data}, $cmd, $pdu->{status}, $pdu->{seq}) . $pdu->{data}),
                (map { $_ => $pdu->{$_} } qw(service_type source_addr_ton source_addr_npi source_addr
                    dest_addr_ton dest_addr_npi destination_addr esm_class protocol_id priority_flag
                    schedule_delivery_time validity_period registered_delivery replace_if_present_flag
                    data_coding sm_default_msg_id)),
                short_message => unpack('H*', $pdu->{short_message} // ''),
                tlvs => tlvs_of($pdu),
            });
            $conn->submit_sm_resp(seq => $pdu->{seq}, message_id => "$message_id");
            if (($pdu->{registered_delivery} & 0x03) == 0x01 && $bind_mode eq 'transceiver') {
                my $now = strftime('%y%m%d%H%M', gmtime);
                my $text = "id:$message_id sub:001 dlvrd:001 submit date:$now done date:$now "
                    . "stat:DELIVRD err:000 text:" . receipt_text($pdu);
                # A receipt travels back from the handset: addresses swap (SMPP 3.4 §4.6.1).
                my $seq = $conn->deliver_sm(
                    async => 1,
                    source_addr_ton => $pdu->{dest_addr_ton},
                    source_addr_npi => $pdu->{dest_addr_npi},
                    source_addr => $pdu->{destination_addr},
                    dest_addr_ton => $pdu->{source_addr_ton},
                    dest_addr_npi => $pdu->{source_addr_npi},
                    destination_addr => $pdu->{source_addr},
                    esm_class => 0x04,    # §5.2.12: SMSC delivery receipt
                    data_coding => 0,
                    short_message => $text,
                    receipted_message_id => "$message_id\0",    # C-Octet String (§5.3.2.12)
                    message_state => pack('C', 2),                 # §5.2.28: DELIVERED
                );
                $receipt_for_seq{$seq} = "$message_id";
                emit({
                    event => 'deliver_sm', session => $session, sequence_number => $seq,
                    kind => 'receipt', receipted_message_id => "$message_id", short_message => $text,
                });
            }
        } elsif ($cmd == 0x80000005) {    # deliver_sm_resp
            emit({
                event => 'deliver_sm_resp', session => $session, sequence_number => $pdu->{seq},
                command_status => $pdu->{status},
                receipt_for => delete $receipt_for_seq{ $pdu->{seq} },
            });
        } elsif ($cmd == 0x00000015) {    # enquire_link
            $conn->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == 0x00000006) {    # unbind
            emit({ event => 'unbind', session => $session });
            $conn->unbind_resp(seq => $pdu->{seq});
            last;
        } elsif ($cmd & 0x80000000) {
            emit({ event => 'response', session => $session, command_id => $cmd, command_status => $pdu->{status} });
        } else {
            # SMPP 3.4 §4.3: an unknown or unsupported command gets a generic_nack.
            emit({ event => 'unknown', session => $session, command_id => $cmd });
            $conn->generic_nack(seq => $pdu->{seq}, status => 0x03);    # ESME_RINVCMDID
        }
    }
    $conn->close;
    emit({ event => 'close', session => $session });
}
