/* The functions GCC's ASan and UBSan runtimes intercept that this
 * system's libc and libraries do not define: a test-build-only library,
 * linked after libc into the programs that carry the runtimes
 * (exe_link_args in meson.build), never into a release build.
 *
 * A runtime looks up each function it intercepts (dlsym RTLD_NEXT) as
 * the program starts. Each lookup that fails makes glibc allocate its
 * error message, which the runtime, not yet up, takes from its internal
 * allocator: filling that allocator's first size classes costs about 330
 * page faults a start (a third of a start's, at 30 to 40 us a fault on a
 * two-core VM), 6 ms of CPU on each of the suite's thousands of runs.
 * Found here, the lookups succeed: the checks are the same, as nothing
 * calls these (libc, searched first, still gives any that it has); one
 * called by a library loaded later would have crashed on the runtime's
 * null pointer, and now stops on the trap.
 *
 * The list: the lookups that failed (LD_DEBUG=symbols, "undefined
 * symbol") with GCC 12's runtimes on Debian 12's glibc 2.36. */

#define STUB(f)                                                                \
	void f(void);                                                          \
	void f(void)                                                           \
	{                                                                      \
		__builtin_trap();                                              \
	}

STUB(__isoc99_printf)
STUB(__isoc99_sprintf)
STUB(__isoc99_snprintf)
STUB(__isoc99_fprintf)
STUB(__isoc99_vprintf)
STUB(__isoc99_vsprintf)
STUB(__isoc99_vsnprintf)
STUB(__isoc99_vfprintf)
STUB(__pthread_mutex_lock)
STUB(__pthread_mutex_unlock)
STUB(pthread_mutexattr_getrobust_np)
STUB(xdrmem_create)
STUB(xdrstdio_create)
STUB(xdr_short)
STUB(xdr_u_short)
STUB(xdr_int)
STUB(xdr_u_int)
STUB(xdr_long)
STUB(xdr_u_long)
STUB(xdr_hyper)
STUB(xdr_u_hyper)
STUB(xdr_longlong_t)
STUB(xdr_u_longlong_t)
STUB(xdr_int8_t)
STUB(xdr_uint8_t)
STUB(xdr_int16_t)
STUB(xdr_uint16_t)
STUB(xdr_int32_t)
STUB(xdr_uint32_t)
STUB(xdr_int64_t)
STUB(xdr_uint64_t)
STUB(xdr_quad_t)
STUB(xdr_u_quad_t)
STUB(xdr_bool)
STUB(xdr_enum)
STUB(xdr_char)
STUB(xdr_u_char)
STUB(xdr_float)
STUB(xdr_double)
STUB(xdr_bytes)
STUB(xdr_string)
STUB(xdrrec_create)
STUB(xdr_destroy)
STUB(crypt)
STUB(crypt_r)
STUB(__cxa_throw)
STUB(swift_demangle)
