/* detect_scan.c: not written yet. */
#include "err.h"
