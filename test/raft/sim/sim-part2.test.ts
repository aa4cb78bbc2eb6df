import { describeSeedPart } from './seed-range';

// The seeds are split over two files so both CI cores share them.
describeSeedPart(2, 2);
