"""The session state machine: binding, windows, timers and answers to bad PDUs."""

from __future__ import annotations

import pytest

from tidings.smpp import CommandStatus, LocalProtocolError, RemoteProtocolError, encode
from tidings.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitterResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    GenericNack,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from tidings.smpp.session import (
    BindTimedOut,
    EnquireLinkDue,
    InactivityTimedOut,
    ResponseTimedOut,
    Role,
    Session,
    State,
)


def bound_pair(window: int = 10) -> tuple[Session, Session]:
    esme = Session(Role.ESME, window=window)
    smsc = Session(Role.SMSC)
    smsc.receive_data(esme.send(BindTransceiver(system_id="u", password="p"), 0.0))
    bind = smsc.next_event(0.0)
    assert isinstance(bind, BindTransceiver)
    esme.receive_data(smsc.send(BindTransceiverResp(sequence_number=bind.sequence_number), 0.0))
    assert isinstance(esme.next_event(0.0), BindTransceiverResp)
    return esme, smsc


def test_bind_moves_both_sides_to_bound_trx() -> None:
    esme, smsc = bound_pair()
    assert esme.state is State.BOUND_TRX
    assert smsc.state is State.BOUND_TRX


def test_failed_bind_stays_open() -> None:
    esme = Session(Role.ESME)
    esme.send(BindTransceiver(), 0.0)
    esme.receive_data(
        encode(BindTransceiverResp(sequence_number=1, command_status=CommandStatus.ESME_RBINDFAIL))
    )
    esme.next_event(0.0)
    assert esme.state is State.OPEN


def test_submit_before_bind_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        Session(Role.ESME).send(SubmitSm(), 0.0)


def test_receiver_may_not_submit_and_transmitter_gets_no_deliver_sm() -> None:
    esme = Session(Role.ESME)
    esme.send(BindReceiver(), 0.0)
    esme.receive_data(encode(BindTransmitterResp(sequence_number=1)))
    esme.next_event(0.0)
    # A bind_transmitter_resp to a bind_receiver still reports what the SMSC granted.
    assert esme.state is State.BOUND_TX
    esme.receive_data(encode(DeliverSm(sequence_number=5)))
    with pytest.raises(RemoteProtocolError) as info:
        esme.next_event(0.0)
    assert info.value.command_status == CommandStatus.ESME_RINVBNDSTS
    answer = esme.error_response(info.value)
    assert isinstance(answer, DeliverSmResp)
    assert answer.sequence_number == 5


def test_submit_from_unbound_client_is_answered_with_invbndsts() -> None:
    smsc = Session(Role.SMSC)
    smsc.receive_data(encode(SubmitSm(sequence_number=3)))
    with pytest.raises(RemoteProtocolError) as info:
        smsc.next_event(0.0)
    answer = smsc.error_response(info.value)
    assert isinstance(answer, SubmitSmResp)
    assert answer.command_status == CommandStatus.ESME_RINVBNDSTS


def test_unknown_command_is_answered_with_generic_nack() -> None:
    smsc = Session(Role.SMSC)
    smsc.receive_data(bytes.fromhex("00000010000007770000000000000009"))
    with pytest.raises(RemoteProtocolError) as info:
        smsc.next_event(0.0)
    answer = smsc.error_response(info.value)
    assert isinstance(answer, GenericNack)
    assert answer.sequence_number == 9
    assert answer.command_status == CommandStatus.ESME_RINVCMDID


def test_window_limits_outstanding_submits_but_not_enquire_link() -> None:
    esme, _smsc = bound_pair(window=2)
    esme.send(SubmitSm(), 0.0)
    esme.send(SubmitSm(), 0.0)
    assert esme.window_free == 0
    with pytest.raises(LocalProtocolError):
        esme.send(SubmitSm(), 0.0)
    esme.send(EnquireLink(), 0.0)  # keeping the link alive must not wait for the window
    esme.receive_data(encode(SubmitSmResp(sequence_number=2, message_id="a")))
    esme.next_event(0.0)
    assert esme.window_free == 1
    assert set(esme.outstanding) == {3, 4}


def test_sequence_numbers_wrap_to_one() -> None:
    session = Session(Role.ESME)
    session._sequence = 0x7FFF_FFFF
    assert session.next_sequence_number() == 1


def test_response_timeout_frees_the_window() -> None:
    esme, _ = bound_pair(window=1)
    esme.response_timeout = 5.0
    esme.send(SubmitSm(), 10.0)
    assert esme.next_deadline() == 15.0
    assert esme.poll_timers(14.9) == []
    events = esme.poll_timers(15.0)
    assert events == [ResponseTimedOut(sequence_number=2, command_id=4)]
    assert esme.window_free == 1


def test_enquire_link_falls_due_after_silence() -> None:
    esme, smsc = bound_pair()
    esme.enquire_link_interval = 30.0
    esme.receive_data(smsc.send(EnquireLink(), 20.0))
    esme.next_event(20.0)
    assert esme.poll_timers(49.0) == []
    assert esme.poll_timers(50.0) == [EnquireLinkDue()]
    assert esme.poll_timers(51.0) == []  # not again until another interval of silence


def test_inactivity_timeout() -> None:
    smsc = Session(Role.SMSC, inactivity_timeout=60.0, now=0.0)
    assert smsc.next_deadline() == 60.0
    assert smsc.poll_timers(60.0) == [InactivityTimedOut()]


def test_a_connection_that_does_not_bind_in_time_times_out() -> None:
    smsc = Session(Role.SMSC, bind_timeout=30.0, enquire_link_interval=None, now=0.0)
    assert smsc.next_deadline() == 30.0
    assert smsc.poll_timers(29.9) == []
    assert smsc.poll_timers(30.0) == [BindTimedOut()]


def test_a_bound_connection_has_no_bind_deadline() -> None:
    esme = Session(Role.ESME, now=0.0)
    smsc = Session(Role.SMSC, bind_timeout=30.0, enquire_link_interval=None, now=0.0)
    smsc.receive_data(esme.send(BindTransceiver(system_id="a", password="b"), 1.0))
    bind = smsc.next_event(1.0)
    assert bind is not None
    smsc.send(BindTransceiverResp(sequence_number=bind.sequence_number), 1.0)
    assert smsc.is_bound
    assert smsc.next_deadline() is None
    assert smsc.poll_timers(100.0) == []


def test_unbind_handshake_and_connection_lost_returns_unanswered() -> None:
    esme, smsc = bound_pair()
    smsc.receive_data(esme.send(SubmitSm(), 0.0))
    smsc.receive_data(esme.send(Unbind(), 0.0))
    assert isinstance(smsc.next_event(0.0), SubmitSm)
    unbind = smsc.next_event(0.0)
    assert isinstance(unbind, Unbind)
    assert smsc.state is State.UNBOUND
    esme.receive_data(smsc.send(UnbindResp(sequence_number=unbind.sequence_number), 0.0))
    esme.next_event(0.0)
    assert esme.state is State.UNBOUND
    assert esme.connection_lost() == {2: 4}
    assert esme.state is State.CLOSED
