#!/usr/bin/env node
// An SMSC built on node-smpp (npm "smpp" 0.5.1), used as an independent peer by the interop tests.
//
// It accepts every bind (or checks --system-id/--password when given), answers each submit_sm with an
// incrementing message_id and, when registered_delivery asks for it (SMPP 3.4 §5.2.17, bit 0), sends a
// delivery receipt as a deliver_sm in the Appendix B format. Everything it sees is printed to stdout as
// one JSON object per line, so a test can assert on the exact octets the client sent.
//
// Stdin accepts JSON commands, one per line:
//   {"command":"deliver","source_addr":"..","destination_addr":"..","short_message":"<hex>",
//    "data_coding":0,"esm_class":0}
// which sends a mobile-originated deliver_sm to the first receiver/transceiver session.
'use strict';

const path = require('path');
const readline = require('readline');
const smpp = require(path.join(__dirname, 'node_modules', 'smpp'));

// node-smpp decodes short_message/message_payload according to data_coding (and strips the UDH), and
// turns time fields into Date objects. The tests need the octets exactly as sent, so the decoding
// filters are removed for the PDUs this peer reads or writes with a message body.
for (const command of ['submit_sm', 'deliver_sm', 'data_sm']) {
  const params = smpp.commands[command].params || {};
  for (const name of ['short_message', 'schedule_delivery_time', 'validity_period']) {
    if (params[name]) {
      delete params[name].filter;
    }
  }
}
delete smpp.tlvs.message_payload.filter;

// Keep the raw octets of every PDU read, for the "pdu" field of the events.
smpp.PDU.fromStream = function fromStreamKeepingRaw(stream, commandLength) {
  const body = stream.read(commandLength - 4);
  if (!body) {
    return false;
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(commandLength, 0);
  const raw = Buffer.concat([head, body]);
  const pdu = new smpp.PDU(raw);
  Object.defineProperty(pdu, 'rawOctets', {value: raw, enumerable: false});
  return pdu;
};

function parseArgs(argv) {
  const options = {port: 0, host: '127.0.0.1', systemId: null, password: null, idStart: 0xa000};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--port': options.port = Number(value); i++; break;
      case '--host': options.host = value; i++; break;
      case '--system-id': options.systemId = value; i++; break;
      case '--password': options.password = value; i++; break;
      case '--id-start': options.idStart = Number(value); i++; break;
      default:
        process.stderr.write(`unknown argument ${flag}\n`);
        process.exit(2);
    }
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

const hex = (buffer) => Buffer.from(buffer).toString('hex');

// SMPP 3.4 §5.3.2: TLV tags this peer names; any other tag is reported as "0xNNNN".
const NAMED_TLVS = [
  'sar_msg_ref_num', 'sar_total_segments', 'sar_segment_seqnum', 'message_payload',
  'user_message_reference', 'source_port', 'destination_port', 'more_messages_to_send',
  'payload_type', 'receipted_message_id', 'message_state', 'network_error_code',
];

function tlvsOf(pdu) {
  const tlvs = {};
  for (const name of NAMED_TLVS) {
    if (pdu[name] === undefined) {
      continue;
    }
    const value = pdu[name];
    tlvs[name] = Buffer.isBuffer(value) ? hex(value) : value;
  }
  for (const key of Object.keys(pdu)) {
    if (/^\d+$/.test(key) && Buffer.isBuffer(pdu[key])) {
      tlvs['0x' + Number(key).toString(16).padStart(4, '0')] = hex(pdu[key]);
    }
  }
  return tlvs;
}

function messageFields(pdu) {
  return {
    service_type: pdu.service_type,
    source_addr_ton: pdu.source_addr_ton,
    source_addr_npi: pdu.source_addr_npi,
    source_addr: pdu.source_addr,
    dest_addr_ton: pdu.dest_addr_ton,
    dest_addr_npi: pdu.dest_addr_npi,
    destination_addr: pdu.destination_addr,
    esm_class: pdu.esm_class,
    protocol_id: pdu.protocol_id,
    priority_flag: pdu.priority_flag,
    schedule_delivery_time: String(pdu.schedule_delivery_time || ''),
    validity_period: String(pdu.validity_period || ''),
    registered_delivery: pdu.registered_delivery,
    replace_if_present_flag: pdu.replace_if_present_flag,
    data_coding: pdu.data_coding,
    sm_default_msg_id: pdu.sm_default_msg_id,
    short_message: hex(pdu.short_message || Buffer.alloc(0)),
    tlvs: tlvsOf(pdu),
  };
}

// SMPP 3.4 Appendix B: "text" is the first 20 characters of the message. Anything that is not
// printable ASCII becomes '?', so the receipt stays plain GSM-safe text.
function receiptText(pdu) {
  let body = Buffer.from(pdu.short_message || Buffer.alloc(0));
  if (body.length === 0 && Buffer.isBuffer(pdu.message_payload)) {
    body = pdu.message_payload;
  }
  // SMPP 3.4 §5.2.12: esm_class bit 6 (0x40) says the message starts with a UDH.
  if ((pdu.esm_class & 0x40) && body.length > 0) {
    body = body.subarray(body[0] + 1);
  }
  let text;
  if ((pdu.data_coding & 0x0f) === 0x08) {
    text = '';
    for (let i = 0; i + 1 < body.length; i += 2) {
      text += String.fromCharCode(body.readUInt16BE(i));
    }
  } else {
    text = body.toString('latin1');
  }
  return Array.from(text).slice(0, 20).map((c) => (/[\x20-\x7e]/.test(c) ? c : '?')).join('');
}

function smppDate(date) {
  const two = (n) => String(n).padStart(2, '0');
  return two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) +
    two(date.getUTCHours()) + two(date.getUTCMinutes());
}

let nextMessageId = options.idStart;
let nextSessionNumber = 1;
const sessions = new Set();

function receiverFor(session) {
  if (session.bindMode === 'transceiver' || session.bindMode === 'receiver') {
    return session;
  }
  for (const other of sessions) {
    if (other.systemId === session.systemId &&
        (other.bindMode === 'transceiver' || other.bindMode === 'receiver')) {
      return other;
    }
  }
  return null;
}

function sendReceipt(session, submit, messageId) {
  const target = receiverFor(session);
  if (!target) {
    emit({event: 'receipt_undeliverable', session: session.number, message_id: messageId});
    return;
  }
  const now = smppDate(new Date());
  const text = `id:${messageId} sub:001 dlvrd:001 submit date:${now} done date:${now} ` +
    `stat:DELIVRD err:000 text:${receiptText(submit)}`;
  const receipt = {
    // A receipt goes back from the handset to the sender: addresses swap (SMPP 3.4 §4.6.1).
    source_addr_ton: submit.dest_addr_ton,
    source_addr_npi: submit.dest_addr_npi,
    source_addr: submit.destination_addr,
    dest_addr_ton: submit.source_addr_ton,
    dest_addr_npi: submit.source_addr_npi,
    destination_addr: submit.source_addr,
    esm_class: 0x04, // SMPP 3.4 §5.2.12: SMSC delivery receipt
    data_coding: 0,
    short_message: Buffer.from(text, 'ascii'),
    receipted_message_id: messageId,
    message_state: 2, // SMPP 3.4 §5.2.28: DELIVERED
  };
  target.deliver_sm(receipt, (resp) => {
    emit({
      event: 'deliver_sm_resp', session: target.number, sequence_number: resp.sequence_number,
      command_status: resp.command_status, receipt_for: messageId,
    });
  }, (sent) => {
    emit({
      event: 'deliver_sm', session: target.number, sequence_number: sent.sequence_number,
      kind: 'receipt', receipted_message_id: messageId, short_message: text,
    });
  });
}

function onBind(session, pdu) {
  const mode = pdu.command.replace('bind_', '');
  let status = 0;
  if (session.bindMode) {
    status = smpp.ESME_RALYBND;
  } else if (options.systemId !== null && pdu.system_id !== options.systemId) {
    status = smpp.ESME_RINVSYSID;
  } else if (options.password !== null && pdu.password !== options.password) {
    status = smpp.ESME_RINVPASWD;
  }
  emit({
    event: 'bind', session: session.number, command: pdu.command, system_id: pdu.system_id,
    password: pdu.password, system_type: pdu.system_type, interface_version: pdu.interface_version,
    command_status: status,
  });
  if (status === 0) {
    session.bindMode = mode;
    session.systemId = pdu.system_id;
    session.send(pdu.response({system_id: 'node-smsc'}));
  } else {
    session.send(pdu.response({command_status: status}));
  }
}

function onSubmit(session, pdu) {
  if (!session.bindMode || session.bindMode === 'receiver') {
    emit({event: 'submit_sm_rejected', session: session.number, sequence_number: pdu.sequence_number});
    session.send(pdu.response({command_status: smpp.ESME_RINVBNDSTS}));
    return;
  }
  const messageId = (nextMessageId++).toString(16);
  emit(Object.assign({
    event: 'submit_sm', session: session.number, sequence_number: pdu.sequence_number,
    message_id: messageId, pdu: hex(pdu.rawOctets || Buffer.alloc(0)),
  }, messageFields(pdu)));
  session.send(pdu.response({message_id: messageId}), () => {
    // SMPP 3.4 §5.2.17: bits 1..0 == 01 request a receipt on final delivery outcome.
    if ((pdu.registered_delivery & 0x03) === 0x01) {
      sendReceipt(session, pdu, messageId);
    }
  });
}

const server = smpp.createServer((session) => {
  session.number = nextSessionNumber++;
  session.bindMode = null;
  sessions.add(session);
  emit({event: 'connect', session: session.number});
  for (const command of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(command, (pdu) => onBind(session, pdu));
  }
  session.on('submit_sm', (pdu) => onSubmit(session, pdu));
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    emit({event: 'unbind', session: session.number});
    session.send(pdu.response(), () => session.close());
  });
  session.on('pdu', (pdu) => {
    if (pdu.command === 'unknown' || pdu.command === 'generic_nack') {
      emit({event: pdu.command, session: session.number, command_id: pdu.command_id});
      if (pdu.command === 'unknown') {
        session.send(pdu.response());
      }
    }
  });
  session.on('close', () => {
    sessions.delete(session);
    emit({event: 'close', session: session.number});
  });
  session.on('error', (error) => {
    emit({event: 'error', session: session.number, message: String(error && error.message)});
    session.destroy();
  });
});

function deliverMobileOriginated(command) {
  let target = null;
  for (const session of sessions) {
    if (session.bindMode === 'transceiver' || session.bindMode === 'receiver') {
      target = session;
      break;
    }
  }
  if (!target) {
    emit({event: 'deliver_failed', reason: 'no receiver bound'});
    return;
  }
  target.deliver_sm({
    source_addr: command.source_addr || '',
    destination_addr: command.destination_addr || '',
    esm_class: command.esm_class || 0,
    data_coding: command.data_coding || 0,
    short_message: Buffer.from(command.short_message || '', 'hex'),
  }, (resp) => {
    emit({
      event: 'deliver_sm_resp', session: target.number, sequence_number: resp.sequence_number,
      command_status: resp.command_status, message_id: resp.message_id,
    });
  }, (sent) => {
    emit({
      event: 'deliver_sm', session: target.number, sequence_number: sent.sequence_number,
      kind: 'mo', short_message: command.short_message || '',
    });
  });
}

readline.createInterface({input: process.stdin}).on('line', (line) => {
  let command;
  try {
    command = JSON.parse(line);
  } catch (error) {
    emit({event: 'bad_command', line});
    return;
  }
  if (command.command === 'deliver') {
    deliverMobileOriginated(command);
  } else {
    emit({event: 'bad_command', line});
  }
});

function shutdown() {
  for (const session of sessions) {
    session.destroy();
  }
  server.close(() => {
    emit({event: 'stopped'});
    process.exit(0);
  });
  // Sessions already destroyed; do not wait on idle keep-alive sockets.
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.on('error', (error) => {
  process.stderr.write(`listen failed: ${error.message}\n`);
  process.exit(1);
});

server.listen(options.port, options.host, () => {
  emit({event: 'listening', port: server.address().port});
});
