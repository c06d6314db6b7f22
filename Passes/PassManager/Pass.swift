//===--- Pass.swift - STUB: replaced by the pass protocol and manager ---===//
import SparrowIR
