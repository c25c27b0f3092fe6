/* sync.c: not written yet. */
#include "err.h"
