/* detect_db.c: not written yet. */
#include "err.h"
