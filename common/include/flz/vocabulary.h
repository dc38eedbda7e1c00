/* SPDX-License-Identifier: MIT */
/**
 * @file vocabulary.h
 * The one definition of the engine's command kinds and message kinds.
 *
 * Everything that names a command or a message (the engine's enums in
 * flz/engine.h, the Python module's AudioMessage types with their fields,
 * docs, repr and equality, the offline renderer's script words, the
 * end-to-end test through the module) is generated from the X-macros here,
 * so that a kind added here appears everywhere or fails to compile.
 *
 * The numbers are ABI of the C API (struct flz_engine_msg carries them):
 * never renumber a kind, only append.
 *
 * Thread: any (compile-time data only).
 */
#ifndef FLZ_VOCABULARY_H
#define FLZ_VOCABULARY_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Command kinds: X(SUFFIX, number, "name", has_value, "doc").
 *
 * SUFFIX makes FLZ_CMD_<SUFFIX>; "name" is the one spelling everywhere (the
 * Python AudioMessage.Applied.cmd, flz-render's script word); has_value is 1
 * when the command carries a number (struct flz_engine_msg.value: the gain
 * of play/play_exclusive/volume, the speed of speed/pad_speed, the linear
 * gain of pad_gain, the frame of seek, the start frame of loop_region, the
 * tempo of master_bpm, the count of beats_per_bar, the downbeat frame of
 * anchor, the tempo of pad_bpm (0 for none), the frame of pad_downbeat,
 * 1 or 0 of bpm_lock and key_lock, 1, 0 or -1 of pad_key_lock), 0 when
 * Applied.value is None.
 */
#define FLZ_CMD_KINDS(X)                                                                 \
	X(LOAD, 1, "load", 0, "publish a decoded sample to a slot")                      \
	X(PLAY, 2, "play", 1, "start a looping voice on a slot at a gain")               \
	X(STOP, 3, "stop", 0, "fade out every voice of a slot")                          \
	X(STOP_ALL, 4, "stop_all", 0, "fade out every voice")                            \
	X(UNLOAD, 5, "unload", 0, "stop a slot's voices and empty the slot")             \
	X(VOLUME, 6, "volume", 1, "set the master gain")                                 \
	X(SPEED, 7, "speed", 1, "set the global playback speed (varispeed)")             \
	X(PING, 8, "ping", 0, "ask the audio thread for a pong")                         \
	X(PLAY_EXCLUSIVE, 9, "play_exclusive", 1,                                        \
	  "fade out every voice and start one on a slot, in one block")                  \
	X(PAUSE, 10, "pause", 0, "fade out a pad's voices and hold their positions")     \
	X(RESUME, 11, "resume", 0, "fade a paused pad's voices back in where they held") \
	X(SEEK, 12, "seek", 1, "move a pad's voices to a sample frame (crossfaded)")     \
	X(PAD_GAIN, 13, "pad_gain", 1, "set a pad's gain (linear, from dB)")             \
	X(PAD_SPEED, 14, "pad_speed", 1, "set a pad's speed (times the global speed)")   \
	X(LOOP_REGION, 15, "loop_region", 1, "set the frames a pad's voices loop")       \
	X(MASTER_BPM, 16, "master_bpm", 1,                                               \
	  "set the transport's tempo, keeping the position within the bar")              \
	X(BEATS_PER_BAR, 17, "beats_per_bar", 1, "set the transport's beats per bar")    \
	X(ANCHOR, 18, "anchor", 1, "make an output frame (or the current one) a downbeat") \
	X(PAD_BPM, 19, "pad_bpm", 1, "set a pad's tempo (0: none) for the tempo lock")    \
	X(PAD_DOWNBEAT, 20, "pad_downbeat", 1,                                           \
	  "set the sample frame of a pad's first downbeat")                              \
	X(BPM_LOCK, 21, "bpm_lock", 1, "turn the tempo lock on (1) or off (0)")              \
	X(PAD_EQ, 22, "pad_eq", 0, "set a pad's 3-band isolator EQ (low, mid, high dB)")    \
	X(KEY_LOCK, 23, "key_lock", 1, "turn key lock on (1) or off (0) for pads that follow it") \
	X(PAD_KEY_LOCK, 24, "pad_key_lock", 1,                                           \
	  "set a pad's key lock: 1 on, 0 off, -1 follows the global setting")

/**
 * Message kinds: X(SUFFIX, number, "PythonName", FIELDS, "doc").
 *
 * SUFFIX makes FLZ_MSG_<SUFFIX>; "PythonName" is the AudioMessage subclass
 * (AudioMessage.<PythonName>); "doc" is its Python docstring. FIELDS names
 * an X-list of the Python attributes, in constructor and repr order:
 * F(name, c_field, KIND, "doc") where c_field is the member of struct
 * flz_engine_msg the attribute is made from and KIND one of:
 *
 *  - SLOT     int or None: the slot, None when the C field is negative
 *  - SEQ      int: an unsigned sequence number
 *  - FRAME    int: a signed frame count
 *  - ERRNO    int: an error code
 *  - ERRTEXT  str or None: the text of the (errno) C field
 *  - CMD      str or None: the FLZ_CMD_KINDS name of the C field
 *  - CMDVALUE float or None: the C field when the message's cmd has_value
 */
#define FLZ_MSG_KINDS(X)                                                                 \
	X(PONG, 1, "Pong", FLZ_MSG_FIELDS_PONG,                                          \
	  "Pong(*, seq=0, frame=0) -- the audio thread's answer to ping().")             \
	X(STOPPED, 2, "Stopped", FLZ_MSG_FIELDS_STOPPED,                                 \
	  "Stopped(*, id=None, seq=0, frame=0) -- the voices silenced by one\n"          \
	  "stop_sample(), stop_all() or unload_sample() have gone silent (after the\n"   \
	  "fade-out). Sent only for a stop that silenced at least one voice.")           \
	X(XRUN, 3, "XRun", FLZ_MSG_FIELDS_XRUN,                                          \
	  "XRun(*, frame=0) -- the device ran out of audio (underrun); the engine "      \
	  "recovered.")                                                                  \
	X(DEVICE_LOST, 4, "DeviceLost", FLZ_MSG_FIELDS_DEVICE_LOST,                      \
	  "DeviceLost(*, error=0, reason=None) -- the device failed and the audio\n"     \
	  "thread has ended; call shut_down() and run() again.")                         \
	X(APPLIED, 5, "Applied", FLZ_MSG_FIELDS_APPLIED,                                 \
	  "Applied(*, cmd=None, id=None, value=None, frame=0, seq=0) -- with\n"          \
	  "AudioEngine(_trace_commands=True), one per command the audio thread applied.") \
	X(STARTED, 6, "Started", FLZ_MSG_FIELDS_STARTED,                                 \
	  "Started(*, id=None, frame=0, seq=0) -- a voice of pad id sounded its first\n"   \
	  "frame at output frame frame (counted from run()); seq is the sequence\n"        \
	  "number of the play that started it. Sent once per play that started a voice.")

#define FLZ_MSG_FIELDS_PONG(F)                                                           \
	F(seq, seq, SEQ, "Sequence number of the ping this answers.")                    \
	F(frame, frame, FRAME, "Output frame at which the audio thread answered.")

#define FLZ_MSG_FIELDS_STOPPED(F)                                                        \
	F(id, slot, SLOT, "The slot that was stopped or unloaded; None for stop_all().") \
	F(seq, seq, SEQ, "Sequence number of the stop command.")                         \
	F(frame, frame, FRAME, "Output frame at which the last voice fell silent.")

#define FLZ_MSG_FIELDS_XRUN(F)                                                           \
	F(frame, frame, FRAME, "Output frame at which the underrun was recovered.")

#define FLZ_MSG_FIELDS_DEVICE_LOST(F)                                                    \
	F(error, error, ERRNO, "ALSA's (negative errno) error code.")                    \
	F(reason, error, ERRTEXT, "Text of the error code.")

#define FLZ_MSG_FIELDS_APPLIED(F)                                                        \
	F(cmd, cmd, CMD,                                                                 \
	  "The command: 'load', 'play', 'stop', 'stop_all', 'unload', 'volume', "        \
	  "'speed', 'ping', 'play_exclusive', 'pause', 'resume', 'seek', 'pad_gain', "   \
	  "'pad_speed', 'loop_region', 'master_bpm', 'beats_per_bar', 'anchor', "        \
	  "'pad_bpm', 'pad_downbeat', 'bpm_lock', 'pad_eq', 'key_lock' or "             \
	  "'pad_key_lock'.")                                                             \
	F(id, slot, SLOT, "The command's slot, or None.")                                \
	F(value, value, CMDVALUE,                                                        \
	  "Gain of 'play'/'play_exclusive'/'volume', speed of 'speed'/'pad_speed', "     \
	  "linear gain of 'pad_gain', frame of 'seek', start frame of 'loop_region', "  \
	  "tempo of 'master_bpm', count of 'beats_per_bar', downbeat frame of "          \
	  "'anchor', tempo of 'pad_bpm' (0.0: none), frame of 'pad_downbeat', "          \
	  "1.0 or 0.0 of 'bpm_lock' and 'key_lock', 1.0, 0.0 or -1.0 (follows) of "      \
	  "'pad_key_lock'; else None.")                                                  \
	F(frame, frame, FRAME, "Output frame before which the command took effect.")     \
	F(seq, seq, SEQ, "Sequence number of the command.")

#define FLZ_MSG_FIELDS_STARTED(F)                                                        \
	F(id, slot, SLOT, "The pad whose voice started.")                                \
	F(frame, frame, FRAME, "Output frame (counted from run()) of the voice's first frame.") \
	F(seq, seq, SEQ, "Sequence number of the play that started it.")

/**
 * Control-side message kinds: the load pool's events (struct flz_load_event
 * in flz/engine.h), merged into the same Python receive_msg() stream as the
 * audio thread's messages but never carried by struct flz_engine_msg. Same
 * shape as FLZ_MSG_KINDS, numbered after it in the same space (never reuse
 * a number of either list). FIELDS: F(name, c_field, KIND, "doc") with
 * c_field a member of struct flz_load_event and KIND one of:
 *
 *  - REQUEST  int: the request id
 *  - SLOT     int or None: as above
 *  - FRACTION float: 0..1
 *  - STAGE    str: a static C string
 *  - DURATION float: seconds
 *  - EXC      an exception instance: made from the event's error and reason
 *             exactly as the synchronous load would raise it
 */
#define FLZ_LOAD_MSG_KINDS(X)                                                            \
	X(LOAD_PROGRESS, 7, "LoadProgress", FLZ_MSG_FIELDS_LOAD_PROGRESS,                \
	  "LoadProgress(*, request=0, id=None, fraction=None, stage=None) -- a\n"        \
	  "load_sample_async() request moved on; fraction rises within a request.")      \
	X(LOAD_DONE, 8, "LoadDone", FLZ_MSG_FIELDS_LOAD_DONE,                            \
	  "LoadDone(*, request=0, id=None, duration_s=None) -- a load_sample_async()\n"  \
	  "request was published to its pad; the request's last message.")               \
	X(LOAD_FAILED, 9, "LoadFailed", FLZ_MSG_FIELDS_LOAD_FAILED,                      \
	  "LoadFailed(*, request=0, id=None, error=None) -- a load_sample_async()\n"     \
	  "request ended unpublished; error is the exception load_sample() would have\n" \
	  "raised, or RuntimeError('superseded: ...'/'cancelled'). The request's last\n" \
	  "message.")

#define FLZ_MSG_FIELDS_LOAD_PROGRESS(F)                                                  \
	F(request, request, REQUEST, "The request id load_sample_async() returned.")     \
	F(id, slot, SLOT, "The pad being loaded.")                                       \
	F(fraction, fraction, FRACTION, "Work done, 0..1, rising within a request.")    \
	F(stage, stage, STAGE, "'queued', 'decode' or 'publish'.")

#define FLZ_MSG_FIELDS_LOAD_DONE(F)                                                      \
	F(request, request, REQUEST, "The request id load_sample_async() returned.")     \
	F(id, slot, SLOT, "The pad loaded.")                                             \
	F(duration_s, duration_s, DURATION, "The sample's length in seconds.")

#define FLZ_MSG_FIELDS_LOAD_FAILED(F)                                                    \
	F(request, request, REQUEST, "The request id load_sample_async() returned.")     \
	F(id, slot, SLOT, "The pad the request was for.")                                \
	F(error, reason, EXC, "The exception (FileNotFoundError, ValueError, ...).")

#define FLZ_VOCAB_ENUM_CMD_(suffix, number, name, has_value, doc) FLZ_CMD_##suffix = number,
#define FLZ_VOCAB_ENUM_MSG_(suffix, number, name, fields, doc) FLZ_MSG_##suffix = number,

/** Commands, as reported by FLZ_MSG_APPLIED (see FLZ_CMD_KINDS). */
enum flz_cmd_kind { FLZ_CMD_KINDS(FLZ_VOCAB_ENUM_CMD_) };

/** Kinds of messages from the audio thread (see FLZ_MSG_KINDS). */
enum flz_msg_kind { FLZ_MSG_KINDS(FLZ_VOCAB_ENUM_MSG_) };

#undef FLZ_VOCAB_ENUM_CMD_
#undef FLZ_VOCAB_ENUM_MSG_

#define FLZ_VOCAB_NAME_CASE_(suffix, number, name, ...) \
	case number:                                    \
		return name;
#define FLZ_VOCAB_VALUE_CASE_(suffix, number, name, has_value, doc) \
	case number:                                                \
		return has_value;

/**
 * The name of a command kind ("stop_all").
 * @param kind a command number (any int)
 * @return the name, or NULL when kind is no command
 * Errors: none (an unknown kind gives NULL).
 * Thread: any (rt-safe).
 * Ownership: the string is static.
 */
static inline const char *flz_cmd_name(int kind)
{
	switch (kind) {
		FLZ_CMD_KINDS(FLZ_VOCAB_NAME_CASE_)
	default:
		return 0;
	}
}

/**
 * Whether a command carries a number (struct flz_engine_msg.value).
 * @param kind a command number (any int)
 * @return 1 for the commands marked has_value in FLZ_CMD_KINDS; 0 otherwise
 *         (also for no command)
 * Errors: none.
 * Thread: any (rt-safe).
 * Ownership: nothing changes hands.
 */
static inline int flz_cmd_has_value(int kind)
{
	switch (kind) {
		FLZ_CMD_KINDS(FLZ_VOCAB_VALUE_CASE_)
	default:
		return 0;
	}
}

/**
 * The Python name of a message kind ("DeviceLost").
 * @param kind a message number (any int)
 * @return the name, or NULL when kind is no message
 * Thread: any.
 */
static inline const char *flz_msg_name(int kind)
{
	switch (kind) {
		FLZ_MSG_KINDS(FLZ_VOCAB_NAME_CASE_)
	default:
		return 0;
	}
}

#undef FLZ_VOCAB_NAME_CASE_
#undef FLZ_VOCAB_VALUE_CASE_

#ifdef __cplusplus
}
#endif

#endif /* FLZ_VOCABULARY_H */
