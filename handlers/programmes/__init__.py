"""The service programmes: points and the love supermarket (积分/爱心超市), small wishes (微心愿), pairings (结对帮扶)."""
