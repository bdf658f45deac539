// The error of a rule that cannot apply to a context as it is: money in the
// context in another currency than the rule's literals ("cannot compare
// cart.total (GBP) with 30 EUR"). The rule says nothing about such a
// context; an offer with that rule is simply not eligible for it
// (pg/offers/context), while rule_holds() reports it as the 22023 it is.
#pragma once

#include "core/common/error.hpp"

namespace personalize::rules {

class NotApplicable : public Error {
public:
    using Error::Error;
};

}  // namespace personalize::rules
